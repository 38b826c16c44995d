#!/usr/bin/env bash
# Installs every test environment (scripts/setup-envs.sh) and runs the whole test suite: everything
# against the newest peft, then the runtime proofs against peft 0.17.1 and 0.20.0, the hazard boundaries,
# then the robustness run over the code of pinned PyPI wheels (tests/test_corpus.py, about 10 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-envs.sh
export PFT_REQUIRE_RUNTIME=1  # the runtime proofs fail, never skip, when peft or torch is missing
.venvs/main/bin/python -m pytest tests -q -p no:cacheprovider
for version in 0.17.1 0.20.0; do
  echo "== runtime proofs against peft $version"
  ".venvs/peft-$version/bin/python" -m pytest tests/runtime -q -p no:cacheprovider
done
echo "== robustness over the pinned wheels of the benchmark's corpus"
.venvs/main/bin/python -m pytest tests/test_corpus.py --corpus -q -p no:cacheprovider
