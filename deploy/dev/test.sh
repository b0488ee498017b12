#!/usr/bin/env bash
# `make test`: starts the servers the tests need (those not already running), builds, runs every
# test, and stops again what it started, pass or fail. Exits non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
cd "$repo_root"

started=()
stop_started() {
  local rc=$?
  for s in "${started[@]}"; do bash "$here/stack.sh" stop "$s" || true; done
  # The node the reconnect test starts for itself, if a failure left it running.
  AMQP_PORT=5673 AMQP_DIST_PORT=25673 AMQP_MANAGEMENT_PORT=15673 RABBITMQ_NODE=herald-test-5673@localhost \
    bash "$here/stack.sh" stop rabbitmq >/dev/null 2>&1 || true
  exit $rc
}
trap stop_started EXIT

for s in "mongo-settings:$MONGO_SETTINGS_PORT" "mongo-customers:$MONGO_CUSTOMERS_PORT" "rabbitmq:$AMQP_PORT"; do
  if ! port_open "${s#*:}"; then
    bash "$here/stack.sh" start "${s%%:*}"
    started+=("${s%%:*}")
  fi
done

log "building (debug, with tests)"
swift build --build-tests
log "running the tests against the real servers"
swift test --skip-build --disable-xctest "$@"
# The panel in a real browser (chromium + chromium-driver from Debian, selenium in the venv);
# skipped when a subset of the Swift tests was asked for.
if [ $# -eq 0 ]; then
  log "running the browser tests (screenshots in .artifacts/browser/)"
  "$NX_VENV/bin/python" Tests/Browser/test_panel.py --control "$(swift build --show-bin-path)/control"
fi
