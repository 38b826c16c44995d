"""IPython's constructs masked with the line count kept, and put back as they were: with IPython's own
transformer, and with the fallback used when IPython is not installed."""
from __future__ import annotations

import ast

import pytest

from flake8_peft_names import ipython_syntax
from flake8_peft_names.ipython_syntax import MASK, mask, unmask

CELLS = {
    "continued shell line": ("!pip install -q -U \\\n    transformers \\\n    accelerate\nx = 1\n", [0, 1, 2]),
    "line magic": ("%pip install peft\nx = 1\n", [0]),
    "help": ("get_peft_model?\nmodel.load_adapter??\nx = 1\n", [0, 1]),
    "assignments": ("files = !ls\nwho = %who_ls\nx = 1\n", [0, 1]),
    "inside a block": ("for i in range(2):\n    %time f(i)\n    !echo \\\n      {i}\n    x = i\n", [1, 2, 3]),
    "python cell magic": ("%%capture out\n!pip install peft\nx = 1\n", [0, 1]),
    "magic continued": ("%pip install \\\n  peft\nx = 1\n", [0, 1]),
    "automagic": ("pip install -q peft\ncd data\nfor f in files:\n    rm -rf out\nx = 1\n", [0, 1, 3]),
    "automagic continued": ("pip install \\\n  peft\nx = 1\n", [0, 1]),
    "words that stay python": ("time.sleep(1)\nrun = 1\nload(x)\n", []),
}


@pytest.fixture(params=["ipython", "fallback"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "fallback":
        monkeypatch.setattr(ipython_syntax, "_TRANSFORM", [None])
    return str(request.param)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_masked_lines_keep_the_count_parse_and_come_back(name: str, reader: str) -> None:
    cell, masked_lines = CELLS[name]
    lines = cell.splitlines(keepends=True)
    masked = mask(lines)
    assert masked is not None and len(masked.lines) == len(lines)
    ast.parse("".join(masked.lines))
    changed = [i for i, (old, new) in enumerate(zip(lines, masked.lines)) if old != new]
    assert changed == masked_lines
    assert unmask(masked.lines, masked.hidden) == lines


def test_a_shell_command_no_magic_runs_is_left_for_python_to_reject(reader: str) -> None:
    masked = mask(["git clone https://github.com/huggingface/peft\n"])
    assert masked is not None and masked.lines == ["git clone https://github.com/huggingface/peft\n"]


def test_cell_magics_of_other_languages_are_no_python() -> None:
    assert mask(["%%bash\n", "echo lora\n"]) is None
    assert mask(["%%writefile x.py\n", "print(1)\n"]) is None
    assert mask(["%%time\n", "%%bash\n", "ls\n"]) is None  # nested: the inner one decides


def test_unmask_refuses_masks_a_fix_lost_or_added() -> None:
    masked = mask(["%pip install peft\n", "x = 'lora'\n"])
    assert masked is not None
    assert unmask(["x = 'adapter_lora'\n"], masked.hidden) is None
    assert unmask([MASK + "\n", MASK + "\n", "x = 1\n"], masked.hidden) is None


def test_ipython_rewrites_whole_cell_magics_and_continuations_into_one_line() -> None:
    """Why the masks come from a line comparison: IPython's output has fewer lines than the cell."""
    transform = ipython_syntax._ipython_transform()
    assert transform is not None
    assert transform("!pip install \\\n  peft\nx = 1\n").count("\n") == 2
    assert transform("%%time\nx = 1\ny = 2\n").count("\n") == 1
