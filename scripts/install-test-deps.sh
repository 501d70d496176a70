#!/usr/bin/env bash
# Peers the test suite runs against that npm does not provide: Debian's nats-server
# (test/nats-bridge.test.ts starts it on 127.0.0.1). Needs root; a no-op when already installed.
set -euo pipefail
if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then
  apt-get update
  apt-get install -y nats-server
fi
