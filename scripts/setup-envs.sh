#!/usr/bin/env bash
# Creates the test environments under .venvs/ (idempotent):
#   torch/        torch (CPU) installed once with --target, shared through a .pth file
#   main/         this package (editable) + test tools + the newest peft
#   peft-0.17.1/  peft 0.17.1 for the runtime proofs at the save-side hazard boundary
#   peft-0.20.0/  peft 0.20.0 for the runtime proofs at the load-side hazard boundary
#   pyodide/      CPython 3.12, 3.13, 3.14 compiled to WebAssembly (npm, run by node), pinned in
#                 requirements/pyodide.txt, for tests/test_new_python_syntax.py; skipped when npm is missing
set -euo pipefail
cd "$(dirname "$0")/.."
V=.venvs
PY=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

if [ ! -f "$V/torch/.done" ]; then
  "$PY" -m pip install -q --target "$V/torch" -r requirements/torch.txt
  touch "$V/torch/.done"
fi
torch_dir=$(cd "$V/torch" && pwd)

make_env() {  # name, pip arguments...
  local name=$1; shift
  local env="$V/$name"
  local stamp="$env/.requirements"
  local want
  want=$(cat "$@" 2>/dev/null; echo "$*")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  [ -x "$env/bin/python" ] || "$PY" -m venv "$env"
  local site
  site=$("$env/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$torch_dir" > "$site/shared_torch.pth"
  "$env/bin/python" -m pip install -q --upgrade pip
  local args=()
  for f in "$@"; do args+=(-r "$f"); done
  "$env/bin/python" -m pip install -q "${args[@]}"
  echo "$want" > "$stamp"
}

make_env main requirements/test.txt requirements/runtime-newest.txt
make_env peft-0.17.1 requirements/runtime-peft-0.17.1.txt requirements/runtime-test.txt
make_env peft-0.20.0 requirements/runtime-peft-0.20.0.txt requirements/runtime-test.txt
for name in main peft-0.17.1 peft-0.20.0; do
  "$V/$name/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
done

make_pyodide() {  # requirements/pyodide.txt's pins, each as the npm alias pyodide-<python>
  local env="$V/pyodide" pins=requirements/pyodide.txt
  local stamp="$env/.requirements"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(cat "$pins")" ]; then return; fi
  if ! command -v npm >/dev/null; then
    echo "setup-envs.sh: npm not found, $env not created (tests/test_new_python_syntax.py needs node and npm)" >&2
    return
  fi
  local python version specs=()
  while read -r python version; do
    case $python in '' | '#'*) continue ;; esac
    specs+=("pyodide-$python@npm:pyodide@$version")
  done <"$pins"
  rm -rf "$env"  # new pins: no old version stays behind
  mkdir -p "$env"
  npm install --prefix "$env" --no-audit --no-fund --ignore-scripts --save-exact --loglevel=error "${specs[@]}"
  cp "$pins" "$stamp"
}
make_pyodide
