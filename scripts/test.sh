#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt --browser --postgres
# The concurrency suite also runs on PostgreSQL when a local server can be started (root on Debian).
if url="$(scripts/test-postgres.sh)"; then
  export INFERSCOPE_TEST_POSTGRES_URL="$url"
fi
exec .venv/bin/python -m pytest "$@"
