"""Python code blocks in Markdown and reStructuredText: findings at the document's lines and columns,
fixes written back into the blocks with every other byte as it was, blocks that are no Python skipped
quietly, and folder walks that read documents only when asked."""
from __future__ import annotations

from pathlib import Path

import pytest

from flake8_peft_names.config import load_config
from flake8_peft_names.doc_blocks import markdown_blocks, rst_blocks
from flake8_peft_names.file_job import FileJob
from flake8_peft_names.results import FileResult
from flake8_peft_names.rule import Applicability
from tests.test_cli import cli

UNSAFE = frozenset({Applicability.SAFE, Applicability.UNSAFE})

# The diffusers tutorial's bug: the adapter name passed positionally, then used again in set_adapters.
MARKDOWN = """\
# Load a LoRA

Install the libraries:

```bash
pip install -U diffusers peft
```

```python
from diffusers import DiffusionPipeline

pipe = DiffusionPipeline.from_pretrained("stabilityai/stable-diffusion-xl-base-1.0")
pipe.load_lora_weights("ostris/ikea-instructions-lora-sdxl", "lora")
```

1. Weight the adapter:

   ```py
   pipe.set_adapters(["lora"], adapter_weights=[0.8])
   ```

A placeholder, which is no Python:

```python
pipe.load_lora_weights(repo, adapter_name="lora", <your options>)
```

~~~python title="elided"
trainer = Trainer(model=model, ...)
~~~

```pycon
>>> NAME = "lora"
>>> pipe.load_lora_weights(repo, adapter_name=NAME)
>>> pipe
StableDiffusionXLPipeline {...}
```

<!-- flake8-peft-names: off -->
```python
pipe.load_lora_weights(repo, adapter_name="lora")  # an example of the bug, on purpose
```
<!-- flake8-peft-names: on -->

```python
pipe.delete_adapters("lora")  # noqa: PFT102
```
"""

RST = """\
Adapters
========

.. code-block:: python
   :caption: load.py

   from peft import PeftModel

   model = PeftModel.from_pretrained(base, "repo", adapter_name="lora")

.. code:: bash

   pip install peft

.. ipython:: python

   %pip install peft
   !pip install -q -U \\
       transformers
   model.set_adapter("lora")

.. ipython::

   In [1]: model.set_adapter("lora")
   Out[1]: 'ok'

A doctest block:

    >>> model.delete_adapter("lora")
    'deleted'

.. sourcecode:: py

   model.add_weighted_adapter(["a", "b"], [0.5, 0.5], adapter_name=...)
   print(<the result>)

.. flake8-peft-names: off

.. code-block:: python

   model.set_adapter("lora")

.. flake8-peft-names: on
"""


def run(path: Path, mode: str = "check") -> FileResult:
    return FileJob(load_config({}, isolated=True), mode, UNSAFE, None)(str(path))


def where(text: str, line_text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and column of `needle` on the `occurrence`-th line containing `line_text`."""
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line_text in line]
    number, line = lines[occurrence]
    return number, line.index(needle) + 1


def found(result: FileResult) -> list[tuple[int, int, str]]:
    return [(f.line, f.col + 1, f.code) for f in result.findings]


def test_markdown_findings_point_into_the_document(tmp_path: Path) -> None:
    path = tmp_path / "tutorial.md"
    path.write_text(MARKDOWN)
    result = run(path)
    assert result.error is None
    assert found(result) == [
        (*where(MARKDOWN, '"ostris/', '"lora"'), "PFT102"),  # positional, in a plain fence
        (*where(MARKDOWN, "set_adapters", '"lora"'), "PFT102"),  # in a fence indented in a list
        (*where(MARKDOWN, 'NAME = "lora"', '"lora"'), "PFT102"),  # after a `>>> ` prompt
        (*where(MARKDOWN, "adapter_name=NAME", "NAME"), "PFT102"),
    ]
    defined = result.findings[2]
    assert f"used as an adapter name on line {where(MARKDOWN, 'adapter_name=NAME', 'NAME')[0]}" in defined.message


def test_markdown_fix_rewrites_only_the_names(tmp_path: Path) -> None:
    path = tmp_path / "tutorial.md"
    path.write_bytes(MARKDOWN.replace("\n", "\r\n").encode())
    result = run(path, "fix")
    assert result.error is None and result.fixed == 4  # the use of NAME goes with its constant
    expected = (
        MARKDOWN.replace('-sdxl", "lora")', '-sdxl", "adapter_lora")')
        .replace('["lora"], adapter_weights', '["adapter_lora"], adapter_weights')
        .replace('>>> NAME = "lora"', '>>> NAME = "adapter_lora"')
        .replace('delete_adapters("lora")', 'delete_adapters("adapter_lora")')  # every use of the name goes with it
    )
    assert path.read_bytes() == expected.replace("\n", "\r\n").encode()
    assert run(path).findings == [] and run(path, "fix").fixed == 0  # a fixpoint


def test_rst_directives_sessions_and_doctest_blocks(tmp_path: Path) -> None:
    path = tmp_path / "adapters.rst"
    path.write_text(RST)
    result = run(path)
    assert result.error is None
    assert found(result) == [
        (*where(RST, "from_pretrained", '"lora"'), "PFT102"),
        (*where(RST, 'set_adapter("lora")', '"lora"', 0), "PFT102"),  # after IPython's continued shell line
        (*where(RST, 'set_adapter("lora")', '"lora"', 1), "PFT102"),  # after `In [1]: `
        (*where(RST, "delete_adapter", '"lora"'), "PFT102"),
    ]
    run(path, "fix")
    fixed = path.read_text()
    assert fixed == RST.replace('"lora"', '"adapter_lora"', 4)  # the block after `off` keeps its name


def test_a_fix_that_adds_a_line_indents_it_as_its_block(tmp_path: Path) -> None:
    document = (
        "Saving\n\n.. code-block:: python\n\n   import peft\n   import torch\n\n   def save(base, config):\n"
        "       model = peft.get_peft_model(base, config)\n"
        '       state = {k: v for k, v in model.state_dict().items() if "lora" in k}\n'
        '       torch.save(state, "adapter.pt")\n\nAfter.\n'
    )
    path = tmp_path / "save.rst"
    path.write_text(document)
    assert found(run(path)) == [(10, 16, "PFT201")]
    run(path, "fix")
    assert path.read_text() == document.replace(  # where isort puts it, two blank lines before the def
        "   import torch\n\n", "   import torch\n   from peft import get_peft_model_state_dict\n\n\n"
    ).replace('{k: v for k, v in model.state_dict().items() if "lora" in k}', "get_peft_model_state_dict(model)")


def test_a_session_keeps_its_output_and_refuses_a_fix_that_adds_lines(tmp_path: Path) -> None:
    document = (
        "```pycon\n>>> import peft\n>>> import torch\n>>> model = peft.get_peft_model(base, config)\n"
        ">>> state = {k: v for k, v in model.state_dict().items() if 'lora' in k}\n"
        ">>> len(state)\n4\n>>> torch.save(state, 'adapter.pt')\n```\n"
    )
    path = tmp_path / "session.md"
    path.write_text(document)
    result = run(path, "fix")
    assert path.read_text() == document
    assert result.error is not None and "interactive session" in result.error
    assert [f.code for f in result.findings] == ["PFT201"]


def test_documents_without_python_blocks_are_quiet(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("# peft-lora tools\n\n```\nadapter_name = lora\n```\n\n```python\nload(<adapter>)\n```\n")
    result = run(path)
    assert (result.findings, result.error) == ([], None)


def test_blocks_are_found_with_their_places() -> None:
    lines = MARKDOWN.splitlines(keepends=True)
    blocks = list(markdown_blocks(lines))
    assert [len(block.code) for block in blocks] == [4, 1, 1, 1, 3, 1]  # the `off` block is not read
    session = blocks[4]
    assert session.session and [lines[p].startswith(">>> ") for p in session.places] == [True] * 3
    rst = list(rst_blocks(RST.splitlines(keepends=True)))
    assert [(b.ipython, b.session) for b in rst] == [
        (False, False), (True, False), (True, True), (False, True), (False, False)
    ]


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_folder_walks_read_documents_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "tutorial.md").write_text(MARKDOWN)
    (tmp_path / "docs" / "adapters.rst").write_text(RST)
    assert cli("check", ".", cwd=tmp_path).stdout == ""
    walked = cli("check", "--include-docs", ".", cwd=tmp_path).stdout.splitlines()
    assert {line.split(":")[0] for line in walked} == {"./docs/adapters.rst", "./docs/tutorial.md"}
    explicit = cli("check", "docs/tutorial.md", cwd=tmp_path)
    assert explicit.returncode == 1 and len(explicit.stdout.splitlines()) == 4
    (tmp_path / "setup.cfg").write_text("[flake8]\ninclude-docs = true\n")
    assert cli("check", ".", cwd=tmp_path).stdout.splitlines() == walked
    (tmp_path / "setup.cfg").write_text("[flake8]\ninclude-docs = maybe\n")
    bad = cli("check", ".", cwd=tmp_path)
    assert bad.returncode == 2 and "include-docs: 'maybe' is not true or false (in setup.cfg)" in bad.stderr


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
@pytest.mark.parametrize("name", ["notes.md", "notes.rst"])
def test_diff_of_a_document_applies_with_patch(tmp_path: Path, name: str) -> None:
    import subprocess

    text = MARKDOWN if name.endswith(".md") else RST
    (tmp_path / name).write_text(text)
    diff = cli("check", "--diff", "--unsafe-fixes", name, cwd=tmp_path)
    assert (tmp_path / name).read_text() == text and diff.stdout.startswith(f"--- a/{name}")
    subprocess.run(["patch", "-p1", "-s"], cwd=tmp_path, input=diff.stdout, text=True, check=True)
    fixed = (tmp_path / name).read_bytes()
    cli("check", "--fix", "--unsafe-fixes", name, cwd=tmp_path)
    assert (tmp_path / name).read_bytes() == fixed  # the diff is what --fix writes, and fixing again is a no-op


def test_json_fix_edits_replace_the_literal_in_the_document(tmp_path: Path) -> None:
    import json

    from flake8_peft_names.report import FORMATS

    path = tmp_path / "tutorial.md"
    path.write_text(MARKDOWN)
    records = json.loads(FORMATS["json"]([run(path)]))
    lines = MARKDOWN.splitlines()
    for record in records[:3]:
        (edit,) = record["fix"]["edits"]
        assert lines[edit["line"] - 1][edit["column"] - 1 : edit["end_column"] - 1] == '"lora"'
        assert edit["content"] == '"adapter_lora"'
