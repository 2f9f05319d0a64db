#!/usr/bin/env bash
# Runs every test against the real local stack (Kafka + OPA, started by `chorus stack up`).
# If this script started the stack, it stops it again, whether the tests pass or fail; a stack
# that was already running, even in part, is left as it was.
# Integration tests never skip: a stack that does not come up fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
CHORUS=.venv/bin/chorus
PYTEST=(.venv/bin/python -m pytest)

started_here=0
stop_stack() {
  if [ "$started_here" = 1 ]; then
    $CHORUS stack down || true
  fi
}
trap stop_stack EXIT

if $CHORUS stack status >/dev/null 2>&1; then
  echo "tests: using the stack that is already running"
else
  # Something of this state directory's stack is not running. Stop it afterwards only when
  # nothing of it was running before (otherwise it is someone else's to stop).
  before=$($CHORUS stack status 2>/dev/null || true)
  if grep -q "running pid" <<<"$before"; then
    echo "tests: part of the stack is running; completing it and leaving it running" >&2
  else
    started_here=1
  fi
  $CHORUS stack up || { echo "tests: the local stack did not come up" >&2; exit 1; }
fi

# The dashboard's browser test needs headless Chromium (installed with apt-get when root).
.venv/bin/python -m deploy.local.chromium ensure || { echo "tests: Chromium is missing" >&2; exit 1; }

status=0
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1
"${PYTEST[@]}" tests/unit tests/integration tests/e2e "$@" || status=1
exit $status
