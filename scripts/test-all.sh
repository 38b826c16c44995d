#!/usr/bin/env bash
# Installs every test environment (scripts/setup-envs.sh) and runs the whole test suite, cheapest tier
# first so that a broken rule fails in seconds (tiers: tests/conftest.py, README "Development"):
#   tier 0   (-m fast)     rule examples, fixtures, fixer pairs, in process
#   pre-push (-m prepush)  real flake8, the command, stdin, options, formats, notebooks, editors, pre-commit
#   floors                 the pre-push tests again with the declared minimum versions, and the flake8
#                          adapter under each supported flake8 major (scripts/test-floors.sh)
#   full     (-m full)     runtime proofs against the newest peft, newer Python syntax, robustness, properties,
#                          the fix scripts run before and after --fix with peft 0.17.1 and the newest;
#                          then the runtime proofs against peft 0.17.1 and 0.20.0, and the robustness run
#                          over the code of pinned PyPI wheels (tests/test_corpus.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-envs.sh
export PFT_REQUIRE_RUNTIME=1  # the runtime proofs fail, never skip, when peft or torch is missing
pytest=(.venvs/main/bin/python -m pytest -q -p no:cacheprovider)
echo "== tier 0: in process"
"${pytest[@]}" tests -m fast
echo "== pre-push: flake8, the command and the integrations as subprocesses"
"${pytest[@]}" tests -m prepush
echo "== floors: the declared minimum versions and every supported flake8 major"
bash scripts/test-floors.sh
echo "== full: runtime proofs (newest peft), newer Python syntax, robustness, properties"
PFT_FIXRUN_PYTHONS="$PWD/.venvs/peft-0.17.1/bin/python:$PWD/.venvs/main/bin/python" "${pytest[@]}" tests -m full
for version in 0.17.1 0.20.0; do
  echo "== runtime proofs against peft $version"
  ".venvs/peft-$version/bin/python" -m pytest tests/runtime -q -p no:cacheprovider
done
echo "== robustness over the pinned wheels of the benchmark's corpus"
"${pytest[@]}" tests/test_corpus.py --corpus
