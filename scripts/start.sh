#!/usr/bin/env bash
# Set up (if needed) and start the dashboard on the offline default (Fashion-MNIST, local models).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
