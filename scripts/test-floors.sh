#!/usr/bin/env bash
# The declared minimum versions, tested. Installs exactly requirements/floors.txt (the lower bounds of
# setup.cfg's install_requires and `notebooks` extra, every dependency pinned, --no-deps) and the test
# tools into a fresh .venvs/floors, the package with --no-deps, checks with vermin that the code needs no
# Python newer than python_requires (3.9 cannot run here), and runs the tests that exercise flake8,
# libcst, packaging and nbformat there. Then scripts/test-flake8-majors.sh: the flake8 adapter under the
# newest release of each supported flake8 major. Idempotent: an environment is rebuilt, from scratch,
# only when its pins change.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
env=.venvs/floors
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

want=$(cat requirements/floors.txt requirements/floors-test.txt)
if [ ! -f "$env/.requirements" ] || [ "$(cat "$env/.requirements")" != "$want" ]; then
  rm -rf "$env"
  "$PY" -m venv "$env"
  "$env/bin/python" -m pip install -q --no-deps -r requirements/floors.txt -r requirements/floors-test.txt
  "$env/bin/python" -m pip check  # the pins are complete and satisfy each other
  echo "$want" > "$env/.requirements"
fi
"$env/bin/python" -m pip install -q --no-deps -e .  # setuptools in an isolated build: the floor packaging is too old for it
"$env/bin/python" -m pip check

python_requires=$(sed -n 's/^python_requires = >=\([0-9.]*\)$/\1/p' setup.cfg)
echo "== floors: vermin, the package's code against Python $python_requires (python_requires)"
"$env/bin/vermin" --no-tips --eval-annotations --violations -t="$python_requires-" flake8_peft_names

"$env/bin/python" - <<'PY'
import importlib.metadata as metadata, sys
names = ("flake8", "libcst", "packaging", "nbformat", "ipython", "pytest")
print(f"== floors: Python {sys.version.split()[0]}, " + ", ".join(f"{n} {metadata.version(n)}" for n in names))
PY
tests=(
  tests/test_cli.py tests/test_options.py tests/test_stdin.py tests/test_fixtures.py tests/test_fixer.py
  tests/test_rule_examples.py tests/test_flake8_api.py tests/test_peft_options.py tests/test_notebooks.py
  tests/test_ipython_syntax.py tests/test_doc_blocks.py
  tests/test_floors.py
)
# Not in this environment, so deselected rather than installed: peft (`--peft-version=installed`).
deselect=(--deselect "tests/test_options.py::test_peft_version_limits_the_hazards[installed-expected5]")
echo "== floors: pytest ${tests[*]} ${deselect[*]}"
"$env/bin/python" -m pytest "${tests[@]}" "${deselect[@]}" -q -p no:cacheprovider -W ignore::DeprecationWarning

bash scripts/test-flake8-majors.sh
