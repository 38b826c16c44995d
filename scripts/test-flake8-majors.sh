#!/usr/bin/env bash
# tests/test_flake8_api.py (the flake8 internals the package uses, through flake8_api.py, and the plugin
# and the command with a selecting config) under the newest release of each supported flake8 major,
# requirements/flake8-majors.txt, each in its own .venvs/flake8-<version> with packaging at its floor and
# the test tools. Idempotent: an environment is rebuilt only when its pins change.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
packaging=$(grep -i '^packaging==' requirements/floors.txt)

for flake8 in $(grep -v '^#' requirements/flake8-majors.txt); do
  env=.venvs/${flake8/==/-}
  want="$flake8 $packaging $(cat requirements/floors-test.txt)"
  if [ ! -f "$env/.requirements" ] || [ "$(cat "$env/.requirements")" != "$want" ]; then
    rm -rf "$env"
    "$PY" -m venv "$env"
    "$env/bin/python" -m pip install -q "$flake8" "$packaging" -r requirements/floors-test.txt
    echo "$want" > "$env/.requirements"
  fi
  "$env/bin/python" -m pip install -q --no-deps -e .  # setuptools in an isolated build: the floor packaging is too old for it
  echo "== $flake8: pytest tests/test_flake8_api.py"
  "$env/bin/python" -m pytest tests/test_flake8_api.py -q -p no:cacheprovider
done
