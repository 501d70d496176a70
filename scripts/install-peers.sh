#!/usr/bin/env bash
# Installs the systems `msgmux bench` compares msgmux with: the Redis and NATS
# servers, and the C client libraries (hiredis, libnats, libzmq) its C clients
# are compiled against. Idempotent: when everything is there already it runs
# no apt-get at all. Needs root (or sudo) and Debian's apt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(redis-server nats-server libhiredis-dev libnats-dev libzmq3-dev)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-peers: all present (${PACKAGES[*]})"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-peers: no apt-get here; install these yourself: ${missing[*]}" >&2
  exit 1
fi
SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
echo "install-peers: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-peers: done"
