"""A fix's `from peft import X` lands where an import sorter puts it (issue 17): isort's order, and ruff's
own I001 check finds nothing to move (when ruff, pinned in requirements/test.txt, is installed)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import libcst as cst
import pytest

from flake8_peft_names.import_placement import add_peft_imports

CASES = [
    (  # merged into the existing peft import, in sorted place
        "import torch\nfrom peft import LoraConfig, get_peft_model\n\nx = 1\n",
        ["PeftModel", "set_peft_model_state_dict"],
        "import torch\nfrom peft import LoraConfig, PeftModel, get_peft_model, set_peft_model_state_dict\n\nx = 1\n",
    ),
    (  # a parenthesised multi-line import keeps its shape
        "from peft import (\n    LoraConfig,\n    get_peft_model,\n)\n",
        ["get_peft_model_state_dict"],
        "from peft import (\n    LoraConfig,\n    get_peft_model,\n    get_peft_model_state_dict,\n)\n",
    ),
    (  # a new line among the third-party imports, in module order
        '"""Doc."""\nimport os\n\nimport torch\nfrom accelerate import A\nfrom transformers import T\n\n'
        "from . import mine\n\nx = 1\n",
        ["get_peft_model_state_dict"],
        '"""Doc."""\nimport os\n\nimport torch\nfrom accelerate import A\nfrom peft import get_peft_model_state_dict\n'
        "from transformers import T\n\nfrom . import mine\n\nx = 1\n",
    ),
    (  # first in its section: it takes the section's blank line
        "import os\n\nfrom transformers import T\n\nx = 1\n",
        ["PeftModel"],
        "import os\n\nfrom peft import PeftModel\nfrom transformers import T\n\nx = 1\n",
    ),
    (  # only standard-library imports: a section of its own after them
        "from __future__ import annotations\n\nimport os\nimport sys\n\nx = 1\n",
        ["get_peft_model_state_dict", "PeftModel"],
        "from __future__ import annotations\n\nimport os\nimport sys\n\n"
        "from peft import PeftModel, get_peft_model_state_dict\n\nx = 1\n",
    ),
    (  # no imports at all: after the docstring, with the blank lines the sorters want
        '"""Doc."""\ndef f():\n    pass\n',
        ["PeftModel"],
        '"""Doc."""\n\nfrom peft import PeftModel\n\n\ndef f():\n    pass\n',
    ),
]


@pytest.mark.parametrize("before, names, after", CASES)
def test_imports_land_where_a_sorter_puts_them(before: str, names: list[str], after: str) -> None:
    assert add_peft_imports(cst.parse_module(before), names).code == after


def _ruff() -> list[str]:
    """The pinned ruff of this environment, never another one on PATH."""
    from ruff.__main__ import find_ruff_bin  # type: ignore[import-not-found]

    return [os.fsdecode(find_ruff_bin())]


@pytest.mark.prepush  # runs ruff (pinned in requirements/test.txt)
@pytest.mark.parametrize("before, names, after", CASES)
def test_ruff_finds_nothing_to_sort(before: str, names: list[str], after: str, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()  # `from . import mine`: first party
    (tmp_path / "pyproject.toml").write_text('[tool.ruff]\nsrc = ["."]\n')
    path = tmp_path / "fixed.py"
    path.write_text(add_peft_imports(cst.parse_module(before), names).code)
    command = [*_ruff(), "check", "--no-cache", "--select", "I001", "--isolated", str(path)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
