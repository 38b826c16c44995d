"""Project-wide state dicts (issue 15, the PFT2xx half): a helper's filter judged by the calls of it in other
modules of the project (project_callers.py, state_dict/values.py `_passed_across`, state_dict/checkpoints.py
`foreign_callers_flows`), on the fixture projects tests/fixtures_projects/zero3_utils (LLaVA's ZeRO-3 helpers
in a utility module, called and saved by the training script) and tests/fixtures_projects/adapter_export (an
offline exporter and a weight-sync worker given a peft model's state_dict() by another module). Tier 0: the
command's own `main` in this process, one worker, and the file job it runs for each file."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from flake8_peft_names import cli
from flake8_peft_names.config import load_config
from flake8_peft_names.file_job import FileJob
from flake8_peft_names.project_callers import _RunStore
from flake8_peft_names.results import FileResult
from flake8_peft_names.rule import Applicability, example_expectations
from tests.inprocess import reported_findings

PROJECTS = Path(__file__).parent / "fixtures_projects"
ZERO3 = PROJECTS / "zero3_utils"
EXPORT = PROJECTS / "adapter_export"
ALL = frozenset({Applicability.SAFE, Applicability.UNSAFE})


def _command(capsys: pytest.CaptureFixture[str], *paths: Path) -> list[tuple[str, int, int, str, str]]:
    """`flake8-peft-names check --isolated --project-wide PATH...`, as users run it (one worker: in process)."""
    given = [str(p) for p in paths]
    cli.main(["check", "--isolated", "--project-wide", "--no-progress", "--no-respect-gitignore", "-j", "1", *given])
    found = []
    for line in capsys.readouterr().out.splitlines():
        match = re.match(r"(.+?):(\d+):(\d+): (PFT\d+) (.*)$", line)
        if match:
            path, row, col, code, message = match.groups()
            message = re.sub(r" \[fix: [^]]*\]$", "", message)
            found.append((str(Path(path).resolve().relative_to(PROJECTS)), int(row), int(col), code, message))
    return sorted(found)


def _expected(root: Path) -> list[tuple[str, int, int, str]]:
    return sorted(
        (str(path.relative_to(PROJECTS)), line, col, code)
        for path in sorted(root.rglob("*.py"))
        for line, col, code in example_expectations(path.read_text(encoding="utf-8"))
    )


def _job(path: Path, mode: str = "check") -> FileResult:
    config = load_config({"select": "PFT", "project-wide": "true"}, isolated=True)
    return FileJob(config, mode, ALL if mode != "check" else frozenset({Applicability.SAFE}), None)(str(path))


@pytest.mark.parametrize("root", [ZERO3, EXPORT], ids=["zero3_utils", "adapter_export"])
def test_the_command_reports_each_project_at_its_expectations(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    found = _command(capsys, root)
    assert [f[:4] for f in found] == _expected(root)


def test_each_finding_names_the_module_that_makes_it_one(capsys: pytest.CaptureFixture[str]) -> None:
    messages = {(f[0], f[1], f[3]): f[4] for f in _command(capsys, ZERO3, EXPORT)}
    utils = "zero3_utils/vlm/utils.py"
    assert messages[(utils, 23, "PFT201")].endswith(
        "the result of get_peft_state_maybe_zero_3() is passed to model.save_pretrained(state_dict=...) in "
        "vlm/train.py:22; the same dict is built on line 25"
    )
    assert "as a pre-filter for save_pretrained(state_dict=...)" in messages[(utils, 23, "PFT201")]
    assert messages[(utils, 45, "PFT201")].endswith(
        "called with trainer.model.named_parameters() from vlm/train.py:27; the result of "
        "get_lora_state_maybe_zero_3() is passed to torch.save() in vlm/train.py:28; the same dict is built on line 46"
    )
    merger, sync = "adapter_export/tools/merger.py", "adapter_export/tools/weight_sync.py"
    for key in [(merger, 12, "PFT201"), (merger, 13, "PFT204")]:
        assert messages[key].endswith("; called with model.state_dict() from scripts/merge.py:9"), key
    for key in [(sync, 10, "PFT201"), (sync, 10, "PFT205"), (sync, 11, "PFT203")]:
        assert messages[key].endswith("; called with self.model.state_dict() from tools/trainer.py:15"), key


# ---------------------------------------------------------------------------------------------------
# The same code in one file: the same findings, at the same lines of the helper's module


def _one_file(helper: Path, *callers: Path) -> str:
    """The helper's module, then its callers with their imports of the project's modules blanked out (so the
    helper's lines keep their numbers) and `utils.helper(...)` called as `helper(...)`."""
    parts = [helper.read_text(encoding="utf-8")]
    for caller in callers:
        text = caller.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^from (vlm|tools)\b.*$", "", text)
        parts.append(text.replace("utils.get_lora", "get_lora"))
    return "".join(parts)


ONE_FILE_CASES = {
    "zero3": (ZERO3 / "vlm/utils.py", ZERO3 / "vlm/train.py"),
    "zero3-logged": (ZERO3 / "vlm/snapshots_safe.py", ZERO3 / "vlm/report_safe.py"),
    "merger": (EXPORT / "tools/merger.py", EXPORT / "scripts/merge.py"),
    "weight-sync": (EXPORT / "tools/weight_sync.py", EXPORT / "tools/trainer.py"),
    "optimizer-state": (EXPORT / "tools/moments_safe.py", EXPORT / "scripts/resume_safe.py"),
}


@pytest.mark.parametrize("case", sorted(ONE_FILE_CASES))
def test_the_project_pass_reports_what_one_file_of_the_same_code_reports(case: str) -> None:
    helper, *callers = ONE_FILE_CASES[case]
    one = reported_findings(_one_file(helper, *callers), "one_file.py")
    lines = len(helper.read_text(encoding="utf-8").splitlines())
    assert all(f.line <= lines for f in one)  # the callers' own lines have no finding, in one file or apart
    across = _job(helper).findings
    assert [(f.line, f.col, f.code) for f in across] == [(f.line, f.col, f.code) for f in one]
    for apart, together in zip(across, one):
        note = re.search(r"; (called with [^;]*|the result of [^;]*)(; the result of [^;]*)?", apart.message)
        assert note is not None, apart.message
        assert apart.message.replace(note.group(0), "") == together.message
    for caller in callers:
        assert _job(caller).findings == []


# ---------------------------------------------------------------------------------------------------
# Fixes, laziness, unknowns


def test_fix_and_diff_change_nothing(tmp_path: Path) -> None:
    """PFT2xx fixes across modules are only shown: a checkpoint's format is the helper's and its callers'."""
    for root in (ZERO3, EXPORT):
        copy = shutil.copytree(root, tmp_path / root.name)
        for path in sorted(copy.rglob("*.py")):
            result = _job(path, "diff")
            assert result.diff in (b"", None), path
            assert all(f.fix is None or f.fix.applicability is Applicability.DISPLAY_ONLY for f in result.findings)


def test_the_codemod_reports_them_and_edits_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from libcst.codemod import CodemodContext

    from flake8_peft_names.codemod import FixPeftNames

    path = EXPORT / "tools/merger.py"
    monkeypatch.chdir(EXPORT)
    command = FixPeftNames(CodemodContext(filename=str(path)), unsafe_fixes=True, project_wide=True)
    found = command.findings(path.read_text())
    assert [(f.line, f.code) for f in found] == [(12, "PFT201"), (13, "PFT204")]
    assert all(f.fix is not None and f.fix.applicability is Applicability.DISPLAY_ONLY for f in found)


def test_other_modules_are_searched_only_for_a_helper_the_module_cannot_judge() -> None:
    """A module without a filter over a parameter or a returned filter searches nothing; a helper module
    searches the project for those helpers' names alone."""
    config = load_config({"select": "PFT", "project-wide": "true"}, isolated=True)
    job = FileJob(config, "check", frozenset({Applicability.SAFE}), None)
    job(str(ZERO3 / "vlm/train.py"))
    job(str(EXPORT / "scripts/merge.py"))
    assert not job.index.kept(_RunStore).mentions
    job(str(ZERO3 / "vlm/utils.py"))
    store = job.index.kept(_RunStore)
    assert {name for _, name in store.mentions} == {"get_peft_state_maybe_zero_3", "get_lora_state_maybe_zero_3"}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


HELPER = (
    "import torch\n\n\ndef export(state_dict, path):\n"
    '    lora = {k: v for k, v in state_dict.items() if "lora_" in k}\n'
    "    torch.save(lora, path)\n"
)


@pytest.mark.parametrize(
    "caller, reported",
    [
        ("from peft import PeftModel\nfrom pkg.helpers import export\nexport(model.state_dict(), 'a.pt')\n", True),
        ("from peft import PeftModel\nfrom pkg.helpers import export as e\ne(model.state_dict(), 'a.pt')\n", True),
        ("from peft import PeftModel\nfrom pkg import helpers\nhelpers.export(model.state_dict(), 'a.pt')\n", True),
        ("from peft import PeftModel\nfrom pkg import export\nexport(model.state_dict(), 'a.pt')\n", True),
        # no caller module uses peft: no PEFT mistake, as in one file
        ("from pkg.helpers import export\nexport(model.state_dict(), 'a.pt')\n", False),
        # a star import may bring another `export`: every caller unknown
        ("from peft import PeftModel\nfrom pkg.helpers import *\nexport(model.state_dict(), 'a.pt')\n", False),
        # the name is rebound, or a local function of the caller's
        ("from peft import PeftModel\nfrom pkg.helpers import export\nexport = print\n"
         "export(model.state_dict(), 'a')\n", False),
        ("from peft import PeftModel\ndef export(sd, path):\n    pass\nexport(model.state_dict(), 'a.pt')\n", False),
        # callers disagree: a model's state dict here, a loaded file there
        ("import torch\nfrom peft import PeftModel\nfrom pkg.helpers import export\n"
         "export(model.state_dict(), 'a.pt')\nexport(torch.load('full.pt'), 'b.pt')\n", False),
    ],
)
def test_callers_found_and_unknown(tmp_path: Path, caller: str, reported: bool) -> None:
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "from .helpers import export\n",
        "pkg/helpers.py": HELPER,
        "run.py": caller,
    })
    found = [(f.line, f.code) for f in _job(tmp_path / "pkg/helpers.py").findings]
    assert found == ([(5, "PFT201")] if reported else [])


def test_an_unreadable_caller_makes_every_caller_unknown(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/helpers.py": HELPER,
        "run.py": "from peft import PeftModel\nfrom pkg.helpers import export\nexport(model.state_dict(), 'a.pt')\n",
        "broken.py": "from pkg.helpers import export\nexport(model.state_dict(, 'a.pt')\n",
    })
    assert _job(tmp_path / "pkg/helpers.py").findings == []


def test_a_finding_of_the_module_alone_is_never_taken_away(tmp_path: Path) -> None:
    """A helper of a module that imports peft, returning a filter of `named_params` to callers it does not
    show, is reported by flake8; callers elsewhere that only log the result do not take that finding away
    (what flake8 reports the command reports too)."""
    helper = (
        "from peft import get_peft_model\n\n\ndef lora_state(named_params):\n"
        '    return {k: v for k, v in named_params if "lora_" in k}\n'
    )
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/helpers.py": helper,
        "run.py": "from pkg.helpers import lora_state\nprint(len(lora_state(model.named_parameters())))\n",
    })
    alone = reported_findings(helper, "helpers.py")
    across = _job(tmp_path / "pkg/helpers.py").findings
    assert [(f.line, f.code, f.message) for f in across] == [(f.line, f.code, f.message) for f in alone]
    assert [(f.line, f.code) for f in alone] == [(5, "PFT201")]


def test_a_fix_known_only_through_other_modules_is_only_shown(tmp_path: Path) -> None:
    """Within one file this replacement would be offered (unsafe); here the file that reads the dict back is
    another one, so the helper is not rewritten."""
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/h.py": "def lora_of(model, adapter_name):\n"
        "    return {k: v for k, v in model.state_dict().items() if f'.{adapter_name}.' in k}\n",
        "run.py": "import torch\nfrom peft import PeftModel\nfrom pkg.h import lora_of\n"
        "torch.save(lora_of(model, 'x'), 'a.pt')\n",
    })
    result = _job(tmp_path / "pkg/h.py", "diff")
    assert [(f.line, f.code) for f in result.findings] == [(2, "PFT201")]
    fix = result.findings[0].fix
    assert fix is not None and fix.applicability is Applicability.DISPLAY_ONLY
    assert fix.description.startswith("not applied, its use as a checkpoint is known only through other modules")
    assert result.diff in (b"", None)
    assert result.findings[0].message.endswith("; the result of lora_of() is passed to torch.save() in run.py:4")


def test_a_requires_grad_helper_s_source_is_asked_of_its_callers_too(tmp_path: Path) -> None:
    """PFT202: the parameters a `requires_grad` filter walks, known from a caller elsewhere, as in one file."""
    helper = "def get_trainable_state_dict(params):\n    return {k: v for k, v in params if v.requires_grad}\n"
    caller = (
        "import torch\nfrom peft import PeftModel\nfrom pkg.h import get_trainable_state_dict\n"
        "model = PeftModel.from_pretrained(base, 'out')\n"
        "torch.save(get_trainable_state_dict(model.named_parameters()), 'a.pt')\n"
    )
    _write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/h.py": helper, "run.py": caller})
    across = _job(tmp_path / "pkg/h.py").findings
    one = reported_findings(helper + caller.replace("from pkg.h import get_trainable_state_dict\n", ""), "one.py")
    note = "; called with model.named_parameters() from run.py:5"
    assert [(f.line, f.code, f.message) for f in across] == [(2, "PFT202", one[0].message + note)]
    assert [(f.line, f.code) for f in one] == [(2, "PFT202")]
