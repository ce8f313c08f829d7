"""PUBACKs of a committed batch, written to the broker together.

paho's ``Client.ack`` queues one 4-byte packet per message and wakes its network thread through
a socket pair each time, so a batch of 500 single-reading messages cost 500 wake-ups, 500
``send`` calls on the broker's socket and as many TCP segments for the broker to read (profiled
in docs/BENCHMARKS.md "Where the time goes"). Here the PUBACKs of a batch are gathered as it is
answered and queued as one packet, after the batch's commit as before: the guarantee (PUBACK only
after commit) is unchanged, only the number of writes is.
"""

from __future__ import annotations

import struct

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK

_PUBACK = struct.Struct("!BBH")
"""A PUBACK without reason code or properties: the same bytes under MQTT 3.1.1 and 5."""


def pubacks(mids: list[int]) -> bytes:
    """The PUBACK packets of ``mids``, back to back, as paho writes each."""
    pack = _PUBACK.pack
    return b"".join([pack(PUBACK, 2, mid) for mid in mids])


class BatchedAcks:
    """Collects the message ids of one client's answered QoS 1 messages; ``flush`` writes their
    PUBACKs in one packet. Both run on the ingest worker's thread (``IngestWorker.ack_flushes``)."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        self._mids: list[int] = []

    def add(self, mid: int) -> None:
        self._mids.append(mid)

    def flush(self) -> None:
        mids, self._mids = self._mids, []
        if mids:
            # paho 2.2 (pinned) has no public call that queues several packets; this is what its
            # ``ack`` does for one (``_send_command_with_mid``), for all of them at once
            self.client._packet_queue(PUBACK, pubacks(mids), 0, 0)
