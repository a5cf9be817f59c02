#!/usr/bin/env bash
# Set up (if needed) and start the dashboard on the offline defaults (Fashion-MNIST and local models; BBC News with
# MiniLM, and with a small GPT-2). The default models are trained (resnet8, gpt2-bbc) and fine-tuned (minilm-bbc) and
# cached here, with a progress bar, so the first run in the browser starts at once (about 13 minutes the first time
# on 2 cores; instant once cached).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
.venv/bin/python -m core prepare || echo "note: a default model could not be prepared now (see above);" \
  "its first run will train it" >&2
exec .venv/bin/streamlit run app.py "$@"
