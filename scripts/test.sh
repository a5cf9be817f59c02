#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt --browser
exec .venv/bin/python -m pytest "$@"
