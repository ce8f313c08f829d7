"""``IngestWorker.wait_for_room``: a receiving thread is held while the worker has ``limit``
messages queued or in hand, and let go by a batch, by ``give_up`` or by a worker that is not
running (so a transport's stop never hangs on it)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from cityops.ingest.worker import InboundMessage, IngestWorker


class Gate(IngestWorker):
    """A worker whose batches wait for ``release``."""

    def __init__(self) -> None:
        super().__init__(max_messages_per_batch=1, tick_interval_s=60.0, startup_grace_s=0.0)
        self.release = threading.Event()
        self.stored: list[bytes] = []

    def process(self, batch: list[InboundMessage]) -> None:
        self.release.wait(10)
        self.stored += [m.payload for m in batch]

    def give_up(self, message: InboundMessage) -> None:
        raise AssertionError("nothing dies here")


def message(n: int) -> InboundMessage:
    return InboundMessage("cityops/t/sensors/s/readings", b"%d" % n, datetime.now(UTC))


def held(worker: Gate, limit: int, give_up: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=worker.wait_for_room, args=(limit, give_up.is_set))
    thread.start()
    return thread


def test_a_full_queue_holds_the_receiver_until_a_batch_makes_room() -> None:
    worker = Gate()
    worker.start()
    try:
        for n in range(3):
            worker.submit(message(n))
        receiver = held(worker, 3, threading.Event())
        receiver.join(0.3)
        assert receiver.is_alive()  # three queued or in hand: no room
        worker.release.set()
        receiver.join(5)
        assert not receiver.is_alive()
    finally:
        worker.release.set()
        worker.stop()
    assert worker.stored == [b"0", b"1", b"2"]


def test_give_up_and_a_stopped_worker_let_the_receiver_go() -> None:
    worker = Gate()
    for n in range(3):
        worker.submit(message(n))
    never = threading.Event()
    idle = held(worker, 1, never)  # not running: nobody would make room
    idle.join(5)
    assert not idle.is_alive()
    worker.start()
    try:
        stop = threading.Event()
        receiver = held(worker, 1, stop)
        receiver.join(0.3)
        assert receiver.is_alive()
        stop.set()
        receiver.join(5)
        assert not receiver.is_alive()
    finally:
        worker.release.set()
        worker.stop()
