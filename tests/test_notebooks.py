"""Jupyter notebooks, written and read with nbformat: code cells checked as the kernel runs them (one
module, so a constant of cell 1 resolves in cell 3), IPython syntax skipped, positions per cell, and
`--fix` rewriting only the fixed sources."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.test_cli import cli, positions

pytestmark = pytest.mark.prepush  # tier (tests/conftest.py)

CELL_1 = '%pip install peft\nfrom peft import get_peft_model\n\nNAME = "lora"'
CELL_3 = (
    "%%time\n"
    "!ls checkpoints\n"
    "get_peft_model?\n"
    "files = !ls\n"
    "model = get_peft_model(base, config, adapter_name=NAME)\n"
    'model.set_adapter("lora")\n'
    "for step in range(2):\n"
    "    %time model.train()\n"
    'model.add_adapter("lora", config)  # noqa'
)
BROKEN = "def broken(:\n    pass"
BASH = '%%bash\npython train.py --adapter_name="lora"'
SHELL = '!python train.py --adapter_name lora\n%env ADAPTER_NAME="lora"\nget_peft_model??'


def make_notebook() -> nbformat.NotebookNode:
    notebook = new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python", "version": "3.11.7"},
        }
    )
    notebook.cells = [
        new_code_cell(CELL_1, execution_count=1, outputs=[new_output("stream", name="stdout", text="ok\n")]),
        new_markdown_cell("Train with `adapter_name='lora'`, the name our old checkpoints use."),
        new_code_cell(
            CELL_3,
            execution_count=2,
            metadata={"tags": ["train"]},
            outputs=[new_output("execute_result", data={"text/plain": "'ok'"}, execution_count=2)],
        ),
        new_code_cell(BROKEN, execution_count=None),
        new_code_cell(BASH),
        new_code_cell(SHELL),
    ]
    return notebook


def write(path: Path, notebook: nbformat.NotebookNode, indent: int = 1) -> bytes:
    text = nbformat.writes(notebook)
    if indent != 1:
        text = json.dumps(json.loads(text), indent=indent, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path.read_bytes()


def column(cell: str, line: int, text: str) -> int:
    return cell.splitlines()[line - 1].index(text) + 1


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "train.ipynb", make_notebook())
    return tmp_path


def test_code_cells_are_one_module_reported_per_cell(project: Path) -> None:
    result = cli("check", "train.ipynb", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    literal = '"lora"'
    assert [line.split(": ")[0] for line in lines] == [
        f"train.ipynb:cell 1:4:{column(CELL_1, 4, literal)}",  # the constant, defined in cell 1
        f"train.ipynb:cell 3:5:{column(CELL_3, 5, 'NAME')}",  # used in cell 3
        f"train.ipynb:cell 3:6:{column(CELL_3, 6, literal)}",
    ]
    assert all(" PFT102 adapter name 'lora'" in line for line in lines)
    assert "defined here, used as an adapter name on cell 3 line 5" in lines[0]  # not the module's line
    # magics, shell lines, help, the %%bash cell and the markdown cell give nothing; the broken cell is
    # reported once, and the cells after it are still checked
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors == ["train.ipynb: error: cell 4: syntax error at line 1: invalid syntax"]


def test_ipython_syntax_alone_gives_no_finding_and_no_error(tmp_path: Path) -> None:
    notebook = new_notebook(cells=[new_code_cell(SHELL), new_code_cell(BASH), new_code_cell("%%timeit\nimport peft")])
    write(tmp_path / "magics.ipynb", notebook)
    result = cli("check", "magics.ipynb", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_json_output_names_the_cell(project: Path) -> None:
    records = json.loads(cli("check", "--output-format=json", "train.ipynb", cwd=project).stdout)
    first = records[0]
    where = (first["path"], first["cell"], first["line"], first["column"])
    assert where == ("train.ipynb", 1, 4, column(CELL_1, 4, '"lora"'))
    assert first["fix"]["edits"][0]["content"] == '"adapter_lora"'


@pytest.mark.parametrize("indent", [1, 2])
def test_fix_rewrites_only_the_fixed_sources(project: Path, indent: int) -> None:
    path = project / "train.ipynb"
    before = write(path, make_notebook(), indent)
    result = cli("check", "--fix", "--unsafe-fixes", "train.ipynb", cwd=project)
    after = path.read_bytes()
    # every literal of the adapter, byte for byte (the `# noqa` line's too: it is the same adapter, and a rename
    # that left it behind would split the name); outputs, metadata, ids, magics, other cells, layout unchanged
    expected = before.replace(b'NAME = \\"lora\\"', b'NAME = \\"adapter_lora\\"').replace(
        b'model.set_adapter(\\"lora\\")', b'model.set_adapter(\\"adapter_lora\\")'
    ).replace(b'model.add_adapter(\\"lora\\", config)', b'model.add_adapter(\\"adapter_lora\\", config)')
    assert after != before and after == expected
    assert result.stdout == ""  # nothing remains but the syntax error
    assert "Fixed 3 finding(s) in 1 file(s)." in result.stderr and "cell 4: syntax error" in result.stderr
    fixed = nbformat.reads(after.decode(), as_version=nbformat.NO_CONVERT)
    nbformat.validate(fixed)
    assert fixed.cells[0].source == CELL_1.replace('"lora"', '"adapter_lora"')
    assert fixed.cells[2].outputs == make_notebook().cells[2].outputs
    assert cli("check", "train.ipynb", cwd=project).stdout == ""


def test_safe_fixes_only_leave_an_unsafe_fix_alone_and_diff_writes_nothing(project: Path) -> None:
    path = project / "train.ipynb"
    before = path.read_bytes()
    result = cli("check", "--fix", "train.ipynb", cwd=project)
    assert result.returncode == 1 and path.read_bytes() == before and "[fix: unsafe]" in result.stdout
    diff = cli("check", "--diff", "--unsafe-fixes", "train.ipynb", cwd=project)
    assert path.read_bytes() == before
    changed = [
        line for line in diff.stdout.splitlines() if line.startswith(("-", "+")) and line[:3] not in ("---", "+++")
    ]
    assert changed == [
        '-    "NAME = \\"lora\\""',
        '+    "NAME = \\"adapter_lora\\""',
        '-    "model.set_adapter(\\"lora\\")\\n",',
        '+    "model.set_adapter(\\"adapter_lora\\")\\n",',
        '-    "model.add_adapter(\\"lora\\", config)  # noqa"',
        '+    "model.add_adapter(\\"adapter_lora\\", config)  # noqa"',
    ]


def test_directories_are_walked_for_notebooks_but_not_their_checkpoints(project: Path) -> None:
    notebook = (project / "train.ipynb").read_bytes()
    (project / "sub" / ".ipynb_checkpoints").mkdir(parents=True)
    (project / "sub" / "eval.ipynb").write_bytes(notebook)
    (project / "sub" / ".ipynb_checkpoints" / "eval-checkpoint.ipynb").write_bytes(notebook)
    result = cli("check", ".", cwd=project)
    paths = {line.split(":cell")[0] for line in result.stdout.splitlines()}
    assert sorted(paths) == ["./sub/eval.ipynb", "./train.ipynb"]


def test_notebook_from_stdin_by_its_display_name_and_per_file_ignores(project: Path) -> None:
    text = (project / "train.ipynb").read_text()
    result = cli("check", "--stdin-display-name=nb/train.ipynb", "-", cwd=project, stdin=text)
    assert result.stdout.splitlines()[0].startswith("nb/train.ipynb:cell 1:4:")
    (project / "setup.cfg").write_text("[flake8]\nper-file-ignores = *.ipynb:PFT102\n")
    assert cli("check", "train.ipynb", cwd=project).stdout == ""


def test_a_file_that_is_no_notebook_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text('{"peft": ')
    result = cli("check", "bad.ipynb", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("bad.ipynb: error: cannot read notebook") and "Traceback" not in result.stderr


def test_positions_in_python_files_are_unchanged_beside_notebooks(project: Path) -> None:
    (project / "train.py").write_text('from peft import get_peft_model\nget_peft_model(b, c, adapter_name="lora")\n')
    found = positions("\n".join(line for line in cli("check", "train.py", cwd=project).stdout.splitlines()))
    assert found == [("train.py", 2, 35, "PFT102")]


def test_without_nbformat_a_notebook_is_reported_with_the_install_hint(tmp_path: Path) -> None:
    """nbformat is an extra (`flake8-peft-names[notebooks]`): without it, one clear line, no traceback."""
    notebook = new_notebook(cells=[new_code_cell('model.set_adapter("lora")')])
    (tmp_path / "nb.ipynb").write_text(nbformat.writes(notebook))
    code = (
        "import sys; sys.modules['nbformat'] = None\n"
        "from flake8_peft_names.cli import main\n"
        "raise SystemExit(main(['check', 'nb.ipynb']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "nb.ipynb: error: notebooks need nbformat: pip install 'flake8-peft-names[notebooks]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_notebook_that_fails_validation_is_reported_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.ipynb").write_text('{"cells": "x", "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "peft": 1}')
    result = cli("check", "bad.ipynb", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert errors[0].startswith("bad.ipynb: error: cannot read notebook")


# ---------------------------------------------------------------------------------------------
# Cells read as IPython reads them

PIP = "!pip install -q -U \\\n    transformers \\\n    accelerate\nfrom peft import PeftModel\nNAME = 'lora'"
CAPTURE = "%%capture output\n!pip install peft\nmodel = PeftModel.from_pretrained(base, 'repo', adapter_name=NAME)"
LOOP = "for name in names:\n    %time model.load_adapter(name)\n    !ls \\\n      out\n    model.set_adapter('lora')"
ASSIGNED = "files = !ls checkpoints \\\n    adapters\nmodel.delete_adapter('lora')"
SHELL_CELL = "git clone https://github.com/huggingface/peft"  # a shell command no magic runs: no Python
AUTOMAGIC = "pip install -q peft\ncd peft\nmodel.set_adapter('lora')"  # automagic: `%pip`, `%cd`
INVALID = "trainer = Trainer(model=model, ...)"  # doc pseudo-code: `...` is a positional argument after a keyword


def ipython_notebook(*sources: str) -> nbformat.NotebookNode:
    return new_notebook(cells=[new_code_cell(source) for source in sources])


def in_process(path: Path, mode: str = "check", **options: str):
    from flake8_peft_names.config import load_config
    from flake8_peft_names.file_job import FileJob
    from flake8_peft_names.rule import Applicability

    config = load_config(dict(options), isolated=True)
    return FileJob(config, mode, frozenset({Applicability.SAFE, Applicability.UNSAFE}), None)(str(path))


@pytest.fixture(params=["ipython", "fallback"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """With IPython's own transformer (the `notebooks` extra), and with the fallback for when it is missing."""
    from flake8_peft_names import ipython_syntax

    if request.param == "fallback":
        monkeypatch.setattr(ipython_syntax, "_TRANSFORM", [None])
    else:
        assert ipython_syntax._ipython_transform() is not None
    return str(request.param)


def test_continued_shell_lines_and_magics_keep_their_line_numbers(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "tutorial.ipynb"
    write(path, ipython_notebook(PIP, CAPTURE, LOOP, ASSIGNED, AUTOMAGIC))
    result = in_process(path)
    assert result.error is None
    assert [(f.cell, f.line, f.col + 1, f.code) for f in result.findings] == [
        (1, 5, column(PIP, 5, "'lora'"), "PFT102"),
        (2, 3, column(CAPTURE, 3, "NAME"), "PFT102"),  # the body of %%capture is Python, checked
        (3, 5, column(LOOP, 5, "'lora'"), "PFT102"),  # after a continued `!ls` inside a loop
        (4, 3, column(ASSIGNED, 3, "'lora'"), "PFT102"),  # after `files = !ls \`
        (5, 3, column(AUTOMAGIC, 3, "'lora'"), "PFT102"),  # after `pip install` without `%`
    ]


def test_fix_puts_every_ipython_line_back(tmp_path: Path, reader: str) -> None:
    path = tmp_path / "tutorial.ipynb"
    before = write(path, ipython_notebook(PIP, CAPTURE, LOOP, ASSIGNED))
    result = in_process(path, "fix")
    assert result.error is None and result.findings == []
    fixed = nbformat.reads(path.read_text(), as_version=nbformat.NO_CONVERT)
    assert [cell.source for cell in fixed.cells] == [
        PIP.replace("'lora'", "'adapter_lora'"), CAPTURE, LOOP.replace("'lora'", "'adapter_lora'"),
        ASSIGNED.replace("'lora'", "'adapter_lora'"),
    ]
    assert path.read_bytes() == before.replace(b"'lora'", b"'adapter_lora'")


def test_cell_magics_of_other_languages_are_skipped_and_python_ones_checked(tmp_path: Path) -> None:
    cells = [
        "from peft import PeftModel",  # a module that imports no ML library is not checked (issue 12)
        "%%bash\npython train.py --adapter_name lora",
        "%%writefile train.py\nmodel.set_adapter('lora')",
        "%%time\nmodel.set_adapter('lora')",
        "%%timeit -n 1\nmodel.set_adapter('lora')",
    ]
    path = tmp_path / "magics.ipynb"
    write(path, ipython_notebook(*cells))
    assert [(f.cell, f.line) for f in in_process(path).findings] == [(4, 2), (5, 2)]


def test_a_cell_that_is_no_python_is_reported_once_and_may_be_a_warning(tmp_path: Path) -> None:
    write(tmp_path / "nb.ipynb", ipython_notebook(PIP, SHELL_CELL, INVALID, "model.set_adapter('sft')"))
    result = cli("check", "nb.ipynb", cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "nb.ipynb: error: cell 2: syntax error at line 1: invalid syntax; "
        "cell 3: syntax error at line 1: positional argument follows keyword argument"
    ]
    warned = cli("check", "--cell-syntax-errors=warning", "nb.ipynb", cwd=tmp_path)
    assert warned.returncode == 0 and warned.stderr.startswith("nb.ipynb: warning: cell 2: syntax error")
    (tmp_path / "setup.cfg").write_text("[flake8]\ncell-syntax-errors = warning\n")
    assert cli("check", "nb.ipynb", cwd=tmp_path).returncode == 0


def test_fix_gives_no_id_to_cells_that_had_none_and_prints_no_library_warning(tmp_path: Path) -> None:
    import re

    text = nbformat.writes(ipython_notebook(PIP, "import peft\nmodel.set_adapter('lora')"))
    # nbformat 4.5 wants ids; many notebooks in the wild have none
    path = tmp_path / "old.ipynb"
    path.write_text(re.sub(r'\n *"id": "[0-9a-f]+",', "", text) + "\n")
    before = path.read_bytes()
    assert b'"id"' not in before
    result = cli("check", "--fix", "--unsafe-fixes", "old.ipynb", cwd=tmp_path)
    after = path.read_bytes()
    renamed = before.replace(b"set_adapter('lora')", b"set_adapter('adapter_lora')")
    assert after == renamed.replace(b"NAME = 'lora'", b"NAME = 'adapter_lora'")  # every use of the value
    assert "Warning" not in result.stderr and result.stderr.startswith("Fixed 1 finding(s)")
