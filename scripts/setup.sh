#!/usr/bin/env bash
# Install everything InferScope needs on a Debian-like machine: system packages (when root) and a venv.
# Usage: scripts/setup.sh [requirements file] [--browser] [--postgres]
#   requirements file: default requirements.txt
#   --browser: also Debian's chromium, for the end-to-end tests
#   --postgres: also Debian's postgresql, for the store's concurrency suite on PostgreSQL
set -euo pipefail
cd "$(dirname "$0")/.."
REQUIREMENTS="${1:-requirements.txt}"
PACKAGES="dataset-fashion-mnist python3-venv"
for option in "${@:2}"; do
  case "$option" in
    --browser) PACKAGES="$PACKAGES chromium" ;;
    --postgres) PACKAGES="$PACKAGES postgresql" ;;
    *) echo "unknown option $option" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  # dataset-fashion-mnist: the offline default dataset. python3-venv: to make the virtual environment.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq $PACKAGES >/dev/null
elif [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "note: not root, so Fashion-MNIST was not installed; run 'sudo apt-get install dataset-fashion-mnist'" \
       "or set INFERSCOPE_FASHION_MNIST_DIR (see README)" >&2
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r "$REQUIREMENTS"
.venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
# the `inferscope` command (pyproject.toml), the same as `python -m core`; the code stays where it is (editable)
.venv/bin/python -m pip install -q --no-deps -e .
