"""Runtime proofs: what the installed peft really does with the adapter names the rules flag.

Skipped as a whole when torch or peft is missing, unless PFT_REQUIRE_RUNTIME=1 (CI), which makes a
missing runtime an error instead. CPU only, fixed seeds, tiny models built locally, no network.
"""
from __future__ import annotations

import importlib
import os

import pytest

# Before torch/transformers/huggingface_hub are imported: no GPU, no hub.
os.environ["CUDA_VISIBLE_DEVICES"] = ""
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

REQUIRED = os.environ.get("PFT_REQUIRE_RUNTIME") == "1"


def _missing() -> str | None:
    for module in ("torch", "peft"):
        try:
            importlib.import_module(module)
        except ImportError as error:
            return f"{module} is not importable ({error})"
    return None


MISSING = _missing()

if MISSING and REQUIRED:
    raise RuntimeError(
        f"PFT_REQUIRE_RUNTIME=1 but {MISSING}: the runtime proofs in tests/runtime/ must run here. "
        "Create the environments with `bash scripts/setup-envs.sh`."
    )

if MISSING:

    class _SkippedModule(pytest.File):
        def collect(self):
            pytest.skip(f"runtime proofs skipped: {MISSING} (set PFT_REQUIRE_RUNTIME=1 to fail instead)")

    def pytest_pycollect_makemodule(module_path, parent):
        # Replaces every test module of this directory, so none of them imports torch or peft.
        return _SkippedModule.from_parent(parent, path=module_path)

else:
    import torch

    from .experiment import PEFT_VERSION, SEED, make_tiny_llama, make_tiny_model

    torch.set_num_threads(1)

    def pytest_report_header(config):
        try:
            from transformers import __version__ as transformers_version
        except ImportError:
            transformers_version = "not installed"
        return f"runtime proofs: peft {PEFT_VERSION}, torch {torch.__version__}, transformers {transformers_version}"

    @pytest.fixture(autouse=True)
    def _fixed_seed():
        torch.manual_seed(SEED)
        yield

    @pytest.fixture
    def tiny_model():
        """nn.Module with `q_proj`, `v_proj` (LoRA targets) and `head` (for modules_to_save)."""
        return make_tiny_model()

    @pytest.fixture
    def tiny_llama():
        """A tiny random LlamaForCausalLM (hidden_size 16, one layer), built from a config."""
        return make_tiny_llama()
