#!/usr/bin/env bash
# Install the real servers the tests run against: Mosquitto, PostgreSQL and Chromium.
# Runs apt-get only as root and only for what is missing; the harness skips what it cannot find.
set -euo pipefail
need=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
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
for svc in mosquitto postgresql; do
  if command -v systemctl >/dev/null; then systemctl stop "$svc" 2>/dev/null || true; fi
  service "$svc" stop 2>/dev/null || true
done
