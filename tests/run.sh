#!/usr/bin/env bash
# Runs every test against the real local stack (Kafka + OPA, started by `chorus stack up`).
# If this script started the stack, it stops it again, whether the tests pass or fail.
# Integration tests never skip: a stack that does not come up fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
CHORUS=.venv/bin/chorus
PYTEST=(.venv/bin/python -m pytest)

started_here=0
if ! $CHORUS stack status >/dev/null 2>&1; then
  started_here=1
fi
stop_stack() {
  if [ "$started_here" = 1 ]; then
    $CHORUS stack down || true
  fi
}
trap stop_stack EXIT

$CHORUS stack up || { echo "tests: the local stack did not come up" >&2; exit 1; }

status=0
.venv/bin/ruff check . || status=1
"${PYTEST[@]}" tests/unit tests/integration tests/e2e "$@" || status=1
exit $status
