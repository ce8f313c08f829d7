#!/usr/bin/env bash
# Prove the install path on a clean Debian 12 machine: `make demo` and `make test`, as root, in a
# fresh clone, with nothing done by hand.
#
#   scripts/fresh-check.sh [--rebuild] [--keep]      (as root; `make fresh-check` runs it)
#
# 1. Builds (once, then reuses) a debootstrap minbase Debian 12 root with only python3,
#    python3-venv, python3-pip, make, git, curl and ca-certificates, from the mirror this
#    machine's apt uses (deb.debian.org unless told otherwise). Cached under
#    $CITYOPS_FRESH_CACHE (default /var/tmp/cityops-fresh)/base; --rebuild makes it again.
# 2. Each run gets its own copy-on-write view of that root (overlayfs; a full copy where overlayfs
#    is missing), so the cached base stays clean.
# 3. Puts a fresh `git clone` of this repository's HEAD (the committed state only) at /work/main
#    in the root, and the shared data ($CITYOPS_SHARED_DATA, else ../shared/data) read-only at
#    /work/shared/data, the layout of a real checkout. Without the data those tests skip.
# 4. Runs inside the root, as root: `make demo` (first, before anything else is installed, so it
#    proves the demo needs nothing more) until the console and /api/v1/health answer on a free
#    port, then `CI=true make test` (nothing may skip for a missing server or browser).
#
# Pip inside the root uses PyPI directly and apt uses Debian's mirror: the real install path.
# The root shares this machine's network namespace; the test harness picks free loopback ports
# and the demo gets free ports through CITYOPS_HTTP_PORT/CITYOPS_MQTT_PORT.
#
# Environment: CITYOPS_FRESH_CACHE, CITYOPS_FRESH_MIRROR (Debian mirror URL),
# CITYOPS_FRESH_NICE (niceness of the build and the checks, default 10),
# CITYOPS_FRESH_DEMO_TIMEOUT (seconds the demo may take to answer, default 600),
# CITYOPS_FRESH_TEST_TIMEOUT (seconds `make test` may take, default 3600),
# CITYOPS_SHARED_DATA (the shared data directory).
set -euo pipefail

usage() { sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; }

rebuild=0
keep=0
for arg in "$@"; do
  case "$arg" in
    --rebuild) rebuild=1 ;;
    --keep) keep=1 ;; # keep the run's root (the clone, the venv) for a look afterwards
    -h | --help) usage; exit 0 ;;
    *) echo "fresh-check: unknown argument $arg" >&2; usage >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${CITYOPS_FRESH_CACHE:-/var/tmp/cityops-fresh}"
base="$cache/base"
suite=bookworm
packages=python3,python3-venv,python3-pip,make,git,curl,ca-certificates
niceness="${CITYOPS_FRESH_NICE:-10}"
demo_timeout="${CITYOPS_FRESH_DEMO_TIMEOUT:-600}"
test_timeout="${CITYOPS_FRESH_TEST_TIMEOUT:-3600}"

say() { printf 'fresh-check: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mounts): sudo make fresh-check"
[ "$(uname -s)" = Linux ] || die "needs Linux"

# The Debian mirror this machine's apt uses (deb822 or one-line sources), else deb.debian.org.
# host_uri ARCHIVE DEFAULT: the first URI ending in /ARCHIVE in this machine's apt sources.
host_uri() {
  local uri
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
    2>/dev/null | grep -v '^[[:space:]]*#' |
    grep -oE "https?://[^[:space:]]+/$1/?([[:space:]]|\$)" | head -n1 | tr -d '[:space:]') || true
  uri="${uri:-$2}"
  echo "${uri%/}"
}
mirror="${CITYOPS_FRESH_MIRROR:-$(host_uri debian http://deb.debian.org/debian)}"
mirror="${mirror%/}"
security="$(host_uri debian-security http://deb.debian.org/debian-security)"

need_host_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v git >/dev/null || missing+=(git)
  command -v curl >/dev/null || missing+=(curl)
  [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
  say "installing ${missing[*]} on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

build_base() {
  local partial="$cache/base.partial"
  rm -rf "$partial"
  mkdir -p "$cache"
  say "building the Debian 12 minbase root in $base from $mirror (a few minutes; log $cache/debootstrap.log)"
  if ! nice -n "$niceness" debootstrap --variant=minbase --include="$packages" \
    "$suite" "$partial" "$mirror" >"$cache/debootstrap.log" 2>&1; then
    tail -n 20 "$cache/debootstrap.log" >&2
    die "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  # Debian's own sources: the release, its updates and the security archive.
  rm -f "$partial/etc/apt/sources.list"
  cat >"$partial/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  # A chroot has no init system: packages must not start their daemons in it (and on ports this
  # machine may use). Debian's build chroots do the same. The harness starts its own servers.
  printf '#!/bin/sh\nexit 101\n' >"$partial/usr/sbin/policy-rc.d"
  chmod 755 "$partial/usr/sbin/policy-rc.d"
  chroot "$partial" apt-get clean
  {
    echo "suite=$suite mirror=$mirror security=$security packages=$packages"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$partial/.cityops-fresh-base"
  rm -rf "$base"
  mv "$partial" "$base"
}

need_host_tools
if [ "$rebuild" = 1 ] || [ ! -f "$base/.cityops-fresh-base" ]; then
  build_base
else
  say "reusing the cached root $base ($(sed -n 's/^built=//p' "$base/.cityops-fresh-base"); --rebuild to make it again)"
fi

run="$cache/runs/$(date -u +%Y%m%dT%H%M%SZ)-$$"
root="$run/root"
mkdir -p "$run"
demo_log="$run/demo.log"
test_log="$run/test.log"
mounts=() # mount points in the order they were made; unmounted in reverse
demo_pid=""

# Every process whose root directory is the run's root (daemons the checks left behind).
procs_in_root() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [ "$r" = "$root" ] && echo "${p#/proc/}"
  done
  return 0
}

cleanup() {
  local status=$? pids i
  set +e
  [ "$status" -lt 128 ] || say "interrupted: stopping what runs in the root, removing the mounts"
  if [ -n "$demo_pid" ]; then kill -TERM -- "-$demo_pid" 2>/dev/null; fi
  pids=$(procs_in_root)
  if [ -n "$pids" ]; then
    kill -TERM $pids 2>/dev/null
    sleep 3
    pids=$(procs_in_root)
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  fi
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null ||
      say "could not unmount ${mounts[i]}"
  done
  if [ "$keep" = 1 ]; then
    say "kept the run's root: $root (remove with: rm -rf $run/root $run/upper $run/work)"
  elif ! grep -q " $run/" /proc/self/mounts; then
    rm -rf "$root" "$run/upper" "$run/work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mnt() { # mnt TARGET MOUNT-ARGS...: mount and remember it for the cleanup
  local target="$1"
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounts+=("$target")
}

# This run's view of the base: writes go to $run/upper, the cached base is never changed.
mkdir -p "$run/upper" "$run/work" "$root"
if mount -t overlay overlay -o "lowerdir=$base,upperdir=$run/upper,workdir=$run/work" "$root" \
  2>/dev/null; then
  mounts+=("$root")
else
  say "overlayfs unavailable: copying the base root (slower)"
  cp -a "$base/." "$root/"
fi
mnt "$root/proc" -t proc proc
mnt "$root/sys" --bind /sys
mnt "$root/dev" --bind /dev
mnt "$root/dev/pts" --bind /dev/pts
mnt "$root/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev shm
mnt "$root/tmp" -t tmpfs -o mode=1777,nosuid,nodev tmp
# This machine's network setup, as any machine on its network has it: the resolver, and the
# certificate authorities it trusts beyond Debian's set (e.g. a TLS-inspecting proxy's), so
# that pip and curl reach PyPI and the mirrors from the root as they do from here.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  python3 - /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt" \
    "$root/usr/local/share/ca-certificates" <<'PY'
import re, sys
from pathlib import Path
pem = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
def certs(path):
    return {"".join(c.split()): c for c in pem.findall(Path(path).read_text(errors="replace"))}
extra = [c for k, c in certs(sys.argv[1]).items() if k not in certs(sys.argv[2])]
out = Path(sys.argv[3])
out.mkdir(parents=True, exist_ok=True)
for i, c in enumerate(extra):
    (out / f"fresh-check-host-{i}.crt").write_text(c + "\n")
PY
  if ls "$root/usr/local/share/ca-certificates/"fresh-check-host-*.crt >/dev/null 2>&1; then
    say "trusting $(ls "$root/usr/local/share/ca-certificates/"fresh-check-host-*.crt | wc -l) certificate authorities of this machine beyond Debian's"
    chroot "$root" update-ca-certificates >/dev/null 2>&1
  fi
fi

# A fresh clone of HEAD: what a new user gets, not this worktree's uncommitted files.
head=$(git -C "$repo" rev-parse HEAD)
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  say "note: uncommitted changes in $repo are NOT checked (only HEAD $head is)"
fi
mkdir -p "$root/work"
git clone -q --no-hardlinks "$repo" "$root/work/main"
git -C "$root/work/main" checkout -q --detach "$head"
data="${CITYOPS_SHARED_DATA:-$repo/../shared/data}"
if [ -d "$data" ]; then
  mnt "$root/work/shared/data" --bind "$data"
  mount -o remount,bind,ro "$root/work/shared/data"
  shared_note="shared data $data, read-only at /work/shared/data"
else
  shared_note="no shared data at $data: the tests that need it skip"
fi
say "checking $head in $root/work/main ($shared_note)"

# A login-like root environment: nothing from this machine's shell (pip mirrors, PATH, venvs).
in_root_cmd() { # in_root_cmd 'SHELL COMMAND' [VAR=value...]
  local cmd="$1"
  shift
  env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" \
    timeout --kill-after=30 "$test_timeout" nice -n "$niceness" chroot "$root" /bin/bash -c "$cmd"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# ---- make demo ----------------------------------------------------------------------------
http_port=$(free_port)
mqtt_port=$(free_port)
while [ "$mqtt_port" = "$http_port" ]; do mqtt_port=$(free_port); done
say "make demo (console on 127.0.0.1:$http_port, MQTT on $mqtt_port; log $demo_log)"
t0=$SECONDS
setsid env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  CITYOPS_HTTP_PORT="$http_port" CITYOPS_MQTT_PORT="$mqtt_port" \
  nice -n "$niceness" chroot "$root" /bin/bash -c 'cd /work/main && exec make demo' \
  </dev/null >"$demo_log" 2>&1 &
demo_pid=$!
demo_result=FAIL
demo_why="did not answer within ${demo_timeout}s"
console_url="http://127.0.0.1:$http_port/"
health_url="http://127.0.0.1:$http_port/api/v1/health"
while [ $((SECONDS - t0)) -lt "$demo_timeout" ]; do
  if ! kill -0 "$demo_pid" 2>/dev/null; then
    wait "$demo_pid" && rc=0 || rc=$?
    demo_why="make demo exited with status $rc before serving"
    break
  fi
  if page=$(curl -fsS --max-time 5 "$console_url" 2>/dev/null) &&
    health=$(curl -fsS --max-time 5 "$health_url" 2>/dev/null); then
    if grep -qiE '<title[^>]*>[^<]*CityOps' <<<"$page"; then
      demo_result=PASS
      demo_why="console and /api/v1/health answered: $health"
    else
      demo_why="/ answered but is not the console"
    fi
    break
  fi
  sleep 2 &
  wait $! # (interruptible, unlike a foreground sleep)
done
demo_time=$((SECONDS - t0))
kill -TERM -- "-$demo_pid" 2>/dev/null || true
for _ in $(seq 20); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 1; done
kill -KILL -- "-$demo_pid" 2>/dev/null || true
wait "$demo_pid" 2>/dev/null || true
demo_pid=""
say "make demo: $demo_result in $(elapsed "$demo_time"): $demo_why"
chatter=$(grep -cE 'transitions\.core|EVENT FIRED' "$demo_log" || true)
demo_log_note="$(wc -l <"$demo_log") lines, $chatter of the broker's internal chatter"

# ---- make test ----------------------------------------------------------------------------
say "CI=true make test (log $test_log)"
t0=$SECONDS
# In the background and waited for, so that a signal reaches the trap (and the cleanup) at once.
in_root_cmd 'cd /work/main && make test' CI=true </dev/null >"$test_log" 2>&1 &
if wait $!; then
  test_result=PASS
else
  test_result=FAIL
fi
test_time=$((SECONDS - t0))
# pytest's verdicts and its counts; anything else: the end of the log.
test_why=$(grep -E '^(FAILED|ERROR) |^=* ?[0-9]+ (passed|failed|errors?|skipped)|^make: \*\*\*' \
  "$test_log" | tail -n 25 || true)
[ "$test_result" = PASS ] || [ -n "$test_why" ] || test_why=$(tail -n 25 "$test_log")

# ---- summary ------------------------------------------------------------------------------
overall=PASS
[ "$demo_result" = PASS ] && [ "$test_result" = PASS ] || overall=FAIL
cat <<SUMMARY

==================== fresh-check: $overall ====================
commit     $head
root       Debian 12 minbase ($base), $shared_note
make demo  $demo_result  $(elapsed "$demo_time")  $demo_why
           log: $demo_log ($demo_log_note)
make test  $test_result  $(elapsed "$test_time")  (CI=true)
           log: $test_log
$(sed 's/^/           /' <<<"$test_why")
================================================================
SUMMARY
[ "$overall" = PASS ]
