"""Project-wide analysis (issue 15): a file's project root and the files its imports name (project.py), the
summaries of the modules it imports (project_index.py), and what `check`, `--fix` and the codemod report
through them on the fixture projects under tests/fixtures_projects/, each file given alone. Tier 0: in
process, through the file job the command runs for each file."""
from __future__ import annotations

import ast
import shutil
from argparse import Namespace
from pathlib import Path

import pytest

from flake8_peft_names.config import load_config
from flake8_peft_names.file_job import FileJob
from flake8_peft_names.module_scan import collect
from flake8_peft_names.plugin import SELECTION_OPTIONS, Plugin
from flake8_peft_names.project import find_project
from flake8_peft_names import project_text
from flake8_peft_names.adapter_sites import API_WORDS
from flake8_peft_names.project_index import KEPT_PROJECTS, FileLookup, ProjectIndex
from flake8_peft_names.results import FileResult
from flake8_peft_names.rule import Applicability, example_expectations

PROJECTS = Path(__file__).parent / "fixtures_projects"
FILES = sorted(p for p in PROJECTS.rglob("*.py"))
UNSAFE = frozenset({Applicability.SAFE, Applicability.UNSAFE})


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _check(path: Path, mode: str = "check") -> FileResult:
    """`flake8-peft-names check --isolated PATH` (or `--diff --unsafe-fixes`), in this process."""
    config = load_config({"select": "PFT", "project-wide": "true"}, isolated=True)
    return FileJob(config, mode, UNSAFE if mode != "check" else frozenset({Applicability.SAFE}), None)(str(path))


def _positions(result: FileResult) -> list[tuple[int, int, str]]:
    return sorted((f.line, f.col + 1, f.code) for f in result.findings)


# ---------------------------------------------------------------------------------------------------
# The root and the import roots


def test_the_root_is_the_nearest_folder_with_a_project_file(tmp_path: Path) -> None:
    _write(tmp_path, {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/m.py": ""})
    project = find_project(str(tmp_path / "pkg/sub/m.py"))
    assert project.root == tmp_path.resolve() and project.roots == (tmp_path.resolve(),)


def test_without_a_project_file_the_root_holds_the_topmost_package(tmp_path: Path) -> None:
    _write(tmp_path, {"a/pkg/__init__.py": "", "a/pkg/sub/__init__.py": "", "a/pkg/sub/m.py": "", "a/s.py": ""})
    if find_project(str(tmp_path / "a/s.py")).root != (tmp_path / "a").resolve():
        pytest.skip("the temporary folder lies inside a project")
    assert find_project(str(tmp_path / "a/pkg/sub/m.py")).root == (tmp_path / "a").resolve()


def test_src_layout_imports_are_found_under_src(tmp_path: Path) -> None:
    _write(tmp_path, {"setup.cfg": "", "src/mypkg/__init__.py": "", "src/mypkg/c.py": "", "scripts/t.py": ""})
    root = tmp_path.resolve()
    project = find_project(str(root / "scripts/t.py"))
    assert project.roots == (root, root / "src")
    assert project.locate(root / "scripts/t.py", 0, ["mypkg", "c"]) == root / "src/mypkg/c.py"
    assert project.locate(root / "scripts/t.py", 0, ["mypkg"]) == root / "src/mypkg/__init__.py"
    assert project.shown(root / "src/mypkg/c.py") == "src/mypkg/c.py"


def test_relative_namespace_script_folder_and_outside_imports(tmp_path: Path) -> None:
    _write(tmp_path, {
        ".git": "", "pkg/__init__.py": "", "pkg/a/__init__.py": "", "pkg/a/m.py": "", "pkg/b.py": "",
        "ns/part/x.py": "", "scripts/helper.py": "", "scripts/run.py": "",
    })
    root = tmp_path.resolve()
    importer = root / "pkg/a/m.py"
    project = find_project(str(importer))
    assert project.locate(importer, 2, ["b"]) == root / "pkg/b.py"  # from ..b import
    assert project.locate(importer, 1, []) == root / "pkg/a/__init__.py"  # from . import
    assert project.locate(importer, 0, ["ns", "part", "x"]) == root / "ns/part/x.py"  # namespace package
    assert project.locate(importer, 0, ["ns"]) == root / "ns"
    assert project.locate(root / "scripts/run.py", 0, ["helper"]) == root / "scripts/helper.py"
    assert project.locate(importer, 0, ["helper"]) is None  # a package module does not import its neighbours
    assert project.locate(importer, 0, ["torch"]) is None
    assert project.locate(importer, 4, ["b"]) is None  # above the root


# ---------------------------------------------------------------------------------------------------
# Summaries


def test_a_summary_lists_constants_forwarders_and_methods() -> None:
    project = find_project(str(PROJECTS / "src_wrappers/scripts/train.py"))
    wrappers = project.root / "src/mypkg/model/wrappers.py"
    index = ProjectIndex()
    summary = index.summary(project, wrappers, 0)
    assert summary is not None
    forwarded = {(f.owner, f.name, f.position, f.param, f.api.name, f.modules) for f in summary.forwarders}
    shown = ("src/mypkg/model/wrappers.py",)
    assert forwarded == {
        (None, "add_adapter_to_model", 1, "adapter_name", "get_peft_model", shown),
        (None, "load_named", 2, "name", "from_pretrained", shown),
        ("ModelWrapper", "add_adapter_to_model", 0, "adapter_name", "get_peft_model", shown),
        ("ModelWrapper", "activate", 0, "name", "set_adapter", shown),
    }
    table = index.table(project, wrappers)
    assert table is not None and ("ModelWrapper", "describe") in table.members
    package = index.table(project, project.root / "src/mypkg/model/__init__.py")
    assert package is not None and package.imports == (wrappers,) and set(package.reexports) == {
        "ModelWrapper", "add_adapter_to_model"
    }
    assert {"add_adapter_to_model", "activate"} <= index.words(wrappers).defs
    constants = index.summary(project, project.root.parent / "flat_constants/trainer/constants.py", 0)
    assert constants is not None
    assert {n: v.value for n, v in constants.constants.items()} == {
        "ADAPTER_NAME": "lora", "SAFE_NAME": "sft", "EVAL_NAME": "q", "PREFIX": "lo", "JOINED": "lora"
    }


def test_summaries_are_made_once_per_content_and_depth(tmp_path: Path) -> None:
    _write(tmp_path, {"pyproject.toml": "", "c.py": 'NAME = "lora"\n'})
    project, index = find_project(str(tmp_path / "c.py")), ProjectIndex()
    path = project.root / "c.py"
    first = index.summary(project, path, 1)
    assert index.summary(project, path, 1) is first
    path.write_text('NAME = "sft"\n')
    assert index.summary(project, path, 1) is first  # files are looked at again once per checked file
    index.new_epoch(project)
    changed = index.summary(project, path, 1)
    assert changed is not None and changed.constants["NAME"].value == "sft"
    once = ProjectIndex(recheck=False)  # a run that writes no file reads each module once
    once.new_epoch(project)
    first = once.summary(project, path, 1)
    path.write_text('NAME = "dpo"\n')
    once.new_epoch(project)
    assert once.summary(project, path, 1) is first


# ---------------------------------------------------------------------------------------------------
# The fixture projects, each file given alone


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PROJECTS)) for p in FILES])
def test_each_file_of_a_fixture_project_reports_its_expectations(path: Path) -> None:
    expected = sorted(example_expectations(path.read_text(encoding="utf-8")))
    result = _check(path)
    assert result.error is None
    assert _positions(result) == expected


def test_every_fixture_project_has_positive_and_negative_files() -> None:
    for project in ("src_wrappers", "flat_constants", "config_dataclasses", "zero3_utils", "adapter_export"):
        files = [p for p in FILES if p.is_relative_to(PROJECTS / project)]
        assert any(example_expectations(p.read_text()) for p in files)
        assert any(p.name.endswith("_safe.py") and "expect:" not in p.read_text() for p in files)


def test_a_finding_made_through_another_module_names_it() -> None:
    train = _check(PROJECTS / "src_wrappers/scripts/train.py")
    messages = {f.line: f.message for f in train.findings}
    assert messages[11].endswith(
        "passed to add_adapter_to_model() (src/mypkg/model/wrappers.py), which forwards it to get_peft_model()"
    )
    assert messages[15].endswith(
        "passed to load_for_eval() (src/mypkg/model/loaders.py), which forwards it through "
        "src/mypkg/model/wrappers.py to from_pretrained()"
    )
    constants = _check(PROJECTS / "flat_constants/trainer/train.py")
    message = {f.line: f.message for f in constants.findings}[11]
    assert message.endswith("defined as ADAPTER_NAME in trainer/constants.py")


def _plugin(path: Path, project_wide: bool) -> set[tuple[int, int, str]]:
    lines = path.read_text().splitlines(keepends=True)
    options = Namespace(peft_version=None, peft_methods=None, project_wide="true" if project_wide else None)
    for name in SELECTION_OPTIONS:
        setattr(options, name.replace("-", "_"), None)
    Plugin.parse_options(options)
    try:
        found = Plugin(ast.parse("".join(lines)), lines, str(path)).run()
        return {(line, col, text.split()[0]) for line, col, text, _ in found}
    finally:
        Plugin.parse_options(Namespace(**{**vars(options), "project_wide": None}))


def test_flake8_sees_no_other_module_unless_asked() -> None:
    """By default the plugin checks one file at a time and never reads another; with --project-wide it reads
    what the file imports as the command does: what the README says editors see."""
    path = PROJECTS / "src_wrappers/scripts/train.py"
    assert _plugin(path, project_wide=False) == set()
    assert _plugin(path, project_wide=True) == {(f.line, f.col, f.code) for f in _check(path).findings} != set()


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PROJECTS)) for p in FILES])
def test_what_flake8_reports_the_command_reports_too(path: Path) -> None:
    lines = path.read_text().splitlines(keepends=True)
    plugin = {(line, col, text.split()[0]) for line, col, text, _ in Plugin(ast.parse("".join(lines)), lines).run()}
    assert plugin <= {(f.line, f.col, f.code) for f in _check(path).findings}


def test_unknown_stays_unknown(tmp_path: Path) -> None:
    """A star import, a name imported twice or rebound, an import from outside the project: nothing."""
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/names.py": 'NAME = "lora"\n',
        "pkg/star.py": "from peft import get_peft_model\nfrom .names import NAME\nfrom .other import *\n"
        "get_peft_model(m, c, adapter_name=NAME)\n",
        "pkg/twice.py": "from peft import get_peft_model\nfrom .names import NAME\nNAME = NAME + ''\n"
        "get_peft_model(m, c, adapter_name=NAME)\n",
        "pkg/outside.py": "from peft import get_peft_model\nfrom elsewhere.names import NAME\n"
        "get_peft_model(m, c, adapter_name=NAME)\n",
        "pkg/known.py": "from peft import get_peft_model\nfrom .names import NAME\n"
        "get_peft_model(m, c, adapter_name=NAME)\n",
    })
    for name in ("star", "twice", "outside"):
        assert _check(tmp_path / f"pkg/{name}.py").findings == [], name
    assert _positions(_check(tmp_path / "pkg/known.py")) == [(3, 35, "PFT102")]


def test_an_import_cycle_ends(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/a.py": "from peft import get_peft_model\nfrom .b import relay\n\n"
        "def attach(m, c, name):\n    relay(m, c, name)\n    get_peft_model(m, c, adapter_name=name)\n",
        "pkg/b.py": "from .a import attach\n\ndef relay(m, c, adapter):\n    attach(m, c, adapter)\n",
        "run.py": "import torch\nfrom pkg.b import relay\nrelay(m, c, 'lora')\n",
    })
    assert _positions(_check(tmp_path / "run.py")) == [(3, 13, "PFT102")]


def test_wrappers_are_read_only_in_modules_that_may_reach_the_api(tmp_path: Path) -> None:
    """A module is parsed for its wrappers only when its text names an API that takes adapter names, or it may
    import (one depth less; a name a package's `__init__.py` passes on, one more) a module of which that
    holds, as deep as the command follows wrappers. A chain through a module that names no API is followed
    all the same."""
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "from .a import attach\n",
        "pkg/a.py": "from peft import get_peft_model as gpm\n\ndef attach(m, c, name):\n    gpm(m, c, name)\n",
        "pkg/b.py": "from . import attach\n\ndef relay(m, c, name):\n    attach(m, c, name)\n",
        "pkg/c.py": "from pkg.b import (\n    relay,\n)\n\ndef far(m, c, name):\n    relay(m, c, name)\n",
        "pkg/d.py": "import os\n\ndef attach(m, c, name):\n    os.path.join(m, c, name)\n",
        "run.py": "import torch\nfrom pkg.a import attach\nfrom pkg.b import relay\nfrom pkg.d import attach as other\n"
        "attach(m, c, 'lora')\nrelay(m, c, 'lora')\nother(m, c, 'lora')\n",
    })
    assert _positions(_check(tmp_path / "run.py")) == [(5, 14, "PFT102"), (6, 13, "PFT102")]
    index, project = ProjectIndex(), find_project(str(tmp_path / "run.py"))
    may = {(n, h): index.may_forward(project, tmp_path / f"pkg/{n}.py", h) for n in "abcd" for h in range(3)}
    assert [h for h in range(3) if may["a", h]] == [0, 1, 2]
    assert [h for h in range(3) if may["b", h]] == [2]  # the name passed on by pkg/__init__.py costs a depth
    assert [h for h in range(3) if may["c", h]] == []
    assert [h for h in range(3) if may["d", h]] == []


def test_a_function_is_read_only_if_its_own_text_may_reach_the_api(tmp_path: Path) -> None:
    """In a module that names the API, a function is looked up only when its text, or the text of a function
    of the module it names, names the API (through an alias too), or (a depth less) a name it imports from a
    module where that holds, or a method that may forward: a checked file that calls only the others has no
    module summarised."""
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/tools.py": "from peft import get_peft_model as gpm\n\n\ndef attach(m, c, name):\n    gpm(m, c, name)\n\n\n"
        "def relay(m, c, name):\n    return attach(m, c, name)\n\n\ndef plain(x):\n    return x\n",
        "pkg/far.py": "from pkg.tools import plain, relay\n\n\ndef far(m, c, name):\n    relay(m, c, name)\n\n\n"
        "def near(x):\n    return plain(x)\n",
        "run.py": "import torch\nfrom pkg.far import near\nfrom pkg.tools import plain\nnear('lora')\nplain('lora')\n",
        "run2.py": "import torch\nfrom pkg.far import far\nfar(m, c, 'lora')\n",
    })
    index, project = ProjectIndex(), find_project(str(tmp_path / "run.py"))
    may = {
        (n, h): index.may_forward_function(project, tmp_path / f"pkg/{m}.py", h, n)
        for m, names in (("tools", ("attach", "relay", "plain")), ("far", ("far", "near")))
        for n in names
        for h in range(3)
    }
    assert [h for h in range(3) if may["attach", h]] == [0, 1, 2]
    assert [h for h in range(3) if may["relay", h]] == [0, 1, 2]  # through attach, in its module
    assert [h for h in range(3) if may["far", h]] == [1, 2]  # through relay, one module deeper
    assert not any(may["plain", h] or may["near", h] for h in range(3))
    job = FileJob(load_config({"select": "PFT", "project-wide": "true"}, isolated=True), "check", UNSAFE, None)
    assert job(str(tmp_path / "run.py")).findings == []
    assert not job.index._reads.summaries  # nothing parsed for `near` and `plain`
    assert _positions(job(str(tmp_path / "run2.py"))) == [(3, 11, "PFT102")]


def test_a_function_s_text_runs_to_the_next_definition_not_indented_deeper() -> None:
    text = (
        b"class Model:\n    @property\n    def name(self):\n        doc = '''\ndef example(x):\n'''\n"
        b"        return load_adapter\n\n    async def other(self):\n        def inner():\n            return deep\n"
        b"        return inner\n\n\ndef name(a): pass\nafter = 1\n"
    )
    words = project_text.function_words(text)
    assert {"doc", "load_adapter", "example"} <= words["name"] and "other" not in words["name"]
    assert {"inner", "deep"} <= words["other"] and {"after", "a"} <= words["name"]  # both `name`s
    assert "deep" in words["inner"] and "other" not in words["inner"]


def test_the_function_gate_lets_through_every_forwarder_of_the_fixture_projects() -> None:
    """The gate is a superset: each forwarder a summary finds, at each depth, passes it."""
    index, found = ProjectIndex(), 0
    for path in FILES:
        project = find_project(str(path))
        index.new_epoch(project)
        for hops in range(3):
            summary = index.summary(project, path.resolve(), hops)
            for forwarder in summary.forwarders if summary is not None else ():
                found += 1
                assert index.may_forward_function(project, path.resolve(), hops, forwarder.name), forwarder
    assert found >= 14


def test_the_quick_texts_tests_are_supersets() -> None:
    """Every API word holds a part the quick test looks for; import statements are found wherever Python allows
    them to start, and longer words are not taken for `import`."""
    assert all(any(part in word.encode() for part in project_text._API_PARTS) for word in API_WORDS)
    text = (
        b"import a.b as c, d\nfrom .. import (e,\n  f as g)\nif x: from .h.i import j\n"
        b"y = 1; import k  # import l\nimport importlib\nreimport = m.import_x\n'from n import o'\n"
        b"from .p import *\n"
    )
    assert [tuple(i) for i in project_text.words_of(text).imports] == [
        (0, ("a", "b"), (), ("c",), False), (0, ("d",), (), ("d",), False), (2, (), ("e", "f"), ("e", "g"), False),
        (1, ("h", "i"), ("j",), ("j",), False), (0, ("k",), (), ("k",), False),
        (0, ("importlib",), (), ("importlib",), False),
        (1, ("p",), (), (), True),
    ]


def test_a_rename_does_not_leave_another_module_s_constant_behind(tmp_path: Path) -> None:
    """The literal here and the constant there hold one adapter: renaming only the literal would split it,
    so the rename is only shown; a name written at a wrapper's call is renamed there."""
    shutil.copytree(PROJECTS / "flat_constants", tmp_path / "p")
    script = tmp_path / "p/trainer/mixed.py"
    script.write_text(
        "from peft import get_peft_model\nfrom .constants import ADAPTER_NAME\n\n"
        "model = get_peft_model(base, config, adapter_name=ADAPTER_NAME)\nmodel.set_adapter('lora')\n"
    )
    mixed = _check(script)
    fixes = [f.fix for f in mixed.findings if f.line == 5]
    assert fixes and fixes[0] is not None and fixes[0].applicability is Applicability.DISPLAY_ONLY
    assert "comes from another module of the project" in fixes[0].description
    assert _check(script, "diff").diff == b""
    wrapped = shutil.copytree(PROJECTS / "src_wrappers", tmp_path / "w")
    diff = _check(wrapped / "scripts/train.py", "diff").diff.decode()
    assert '-model = add_adapter_to_model(base, "lora", config)' in diff
    assert '+model = add_adapter_to_model(base, "adapter_lora", config)' in diff


def test_the_codemod_reads_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    from libcst.codemod import CodemodContext

    from flake8_peft_names.codemod import FixPeftNames

    path = PROJECTS / "src_wrappers/scripts/train.py"
    monkeypatch.chdir(PROJECTS)
    command = FixPeftNames(CodemodContext(filename=str(path)), unsafe_fixes=True, project_wide=True)
    assert [f.line for f in command.findings(path.read_text())] == [11, 13, 14, 15]


def test_a_module_summary_needs_only_what_it_imports() -> None:
    """Checking a file summarises the project modules it reads, not the whole project."""
    index = ProjectIndex()
    path = PROJECTS / "flat_constants/trainer/train_safe.py"
    facts = collect(ast.parse(path.read_text()))
    view = FileLookup(index, str(path)).view(facts)
    assert view.value(("SAFE_NAME",)) is not None
    assert {p.name for p, _, _ in index._reads.summaries} == {"constants.py"}


def test_a_fix_run_reads_again_what_it_wrote(tmp_path: Path) -> None:
    """`--fix` looks at a module's file again before each checked file: a script checked after the module it
    imports a name from was fixed sees the fixed name, not the one read before the fix."""
    _write(tmp_path, {
        "pyproject.toml": "",
        "pkg/__init__.py": "",
        "pkg/setup.py": "from peft import get_peft_model\n\nNAME = 'lora'\n\n\n"
        "def attach(m, c):\n    return get_peft_model(m, c, adapter_name=NAME)\n",
        "run.py": "from peft import PeftModel\nfrom pkg.setup import NAME\n\n"
        "model = PeftModel.from_pretrained(m, 'out', adapter_name=NAME)\n",
    })
    config = load_config({"select": "PFT", "project-wide": "true"}, isolated=True)
    job = FileJob(config, "fix", UNSAFE, None)
    assert _positions(job(str(tmp_path / "run.py"))) == [(4, 58, "PFT102")]  # NAME is 'lora', in pkg/setup.py
    assert job(str(tmp_path / "pkg/setup.py")).fixed
    assert "NAME = 'adapter_lora'" in (tmp_path / "pkg/setup.py").read_text()
    assert job(str(tmp_path / "run.py")).findings == []


def test_what_is_read_of_a_project_is_kept_for_the_last_few_projects() -> None:
    """A run that goes from a project to a nested one and back reads the first one's modules once; projects
    checked longer ago are forgotten, so memory does not grow with the number of projects a run checks."""
    index = ProjectIndex()
    path = PROJECTS / "flat_constants/trainer/train_safe.py"

    def read(checked: Path) -> dict[object, object]:
        view = FileLookup(index, str(checked)).view(collect(ast.parse("SAFE_NAME = 'a'")))
        view.value(("SAFE_NAME",))
        return index._reads.summaries

    first = read(path)
    others = ["zero3_utils", "adapter_export", "src_wrappers", "config_dataclasses"][:KEPT_PROJECTS]
    assert len(others) == KEPT_PROJECTS
    assert read(PROJECTS / others[0] / "any.py") is not first
    assert read(path) is first  # back from a nested project: nothing read again
    for other in others:
        read(PROJECTS / other / "any.py")
    assert read(path) is not first
