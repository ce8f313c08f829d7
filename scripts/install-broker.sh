#!/usr/bin/env bash
# `make demo`'s broker: Debian's Mosquitto, which `cityops demo` and `cityops serve` start and
# supervise as their embedded broker (docs/MQTT.md, Embedded broker). Installed only when
# missing, only as root with apt-get; the packaged system service is stopped and disabled (it
# would hold port 1883, CityOps runs its own). Without it (not root, no apt-get, no network) the
# demo runs on the amqtt broker instead, which loses what it acknowledged if CityOps is killed.
# Never fails: the demo runs either way.
set -uo pipefail
if command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "Mosquitto is not installed and this is not root with apt-get: the demo uses the amqtt" \
    "broker (slower; loses acknowledged readings if killed). As root: apt-get install mosquitto" >&2
  exit 0
fi
echo "installing Mosquitto with apt-get (the demo's broker)" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends mosquitto >/dev/null; }; then
  echo "apt-get install mosquitto failed: the demo uses the amqtt broker" >&2
  exit 0
fi
if command -v systemctl >/dev/null; then systemctl disable --now mosquitto 2>/dev/null || true; fi
service mosquitto stop 2>/dev/null || true
exit 0
