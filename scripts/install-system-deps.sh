#!/usr/bin/env bash
# Install from Debian what the tests and checks need beyond Python: the real servers they run
# against (Mosquitto, PostgreSQL, RabbitMQ with haproxy in front), headless Chromium, the C
# library Playwright's bundled Node driver links against (libatomic1), Node.js with npm for the
# console's JavaScript checks, and GStreamer's RTSP server for the video source tests.
# Debian 12 ships Node.js 18: that is what a fresh machine gets, so the JavaScript tooling must
# work with it.
# Runs apt-get only as root and only for what is missing; the harness skips what it cannot find.
# Each need is detected by what the suite really uses (a file, a library the dynamic linker
# knows, a command), so a machine that has it from elsewhere (e.g. Node from NodeSource) is left
# alone.
set -euo pipefail
need=()
has_lib() { ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$1 "; }
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# tests/harness/rabbitmq.py runs three RabbitMQ nodes from these paths behind haproxy
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
[ -x /usr/bin/chromium ] || need+=(chromium) # tests/browser/chromium.py launches this path
has_lib libatomic.so.1 || need+=(libatomic1) # playwright/driver/node needs it
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# The RTSP source test serves a real clip with GStreamer's RTSP server (through the system Python)
has_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-bad; do
  has_pkg "$pkg" || need+=("$pkg")
done
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "not root or no apt-get: tests needing ${need[*]} will be skipped" >&2
  exit 0
fi
echo "installing ${need[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# A failed install (no network, no mirror) is not fatal here: the tests needing the missing
# servers skip with a reason, or fail when CI=true.
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
  echo "apt-get install ${need[*]} failed: tests needing them will be skipped (fail under CI=true)" >&2
  exit 0
fi
# Debian starts the packaged services; the harness runs its own on loopback ports.
for svc in mosquitto postgresql rabbitmq-server haproxy; do
  if command -v systemctl >/dev/null; then systemctl stop "$svc" 2>/dev/null || true; fi
  service "$svc" stop 2>/dev/null || true
done
