#!/usr/bin/env bash
# Peers the test suite runs against that npm does not provide: Debian's nats-server
# (test/nats-bridge.test.ts starts it on 127.0.0.1). A no-op when it is installed.
# Installing needs root; without it the NATS tests are skipped and say why.
set -euo pipefail
if command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: nats-server is missing and this is not root; run 'apt-get install -y nats-server' as root (the NATS tests skip until then)" >&2
  exit 0
fi
apt-get update
apt-get install -y nats-server
