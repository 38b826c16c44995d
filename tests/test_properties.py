"""Property-based robustness: generated Python never crashes the checker, and fixes are sound.

- hypothesmith generates Python source (from the grammar, and from LibCST's node types); the flake8
  plugin (`Plugin(tree, lines).run()`) and `engine.check_tree` never raise and never report PFT000.
- A strategy builds programs that pass adapter names (drawn from a list of hazardous and harmless
  names, written as literals, constants, defaults, class attributes, argparse defaults, f-strings or
  concatenations) to PEFT, transformers and diffusers APIs, and hand-write adapter state dicts, at module
  level or nested in functions, classes and blocks, sometimes spliced into hypothesmith code. On each,
  `check --fix --unsafe-fixes` (the command's FileJob, in process) yields code that compiles, that a second
  run leaves as it is, and that has no finding left of a rule whose fix was applied (but those that had
  no fix to begin with: a name built by an f-string is reported, never rewritten).

The `ci` profile (tests/conftest.py) derandomizes and bounds the examples; HYPOTHESIS_PROFILE=dev searches more.
"""
from __future__ import annotations

import ast
import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import assume, event, given, note, settings
from hypothesis import strategies as st

from flake8_peft_names.engine import check_tree
from flake8_peft_names.file_job import FileJob, check_file
from flake8_peft_names.config import load_config
from flake8_peft_names.plugin import Plugin
from flake8_peft_names.results import applicability
from flake8_peft_names.rule import Applicability
from flake8_peft_names.settings import build_settings
from flake8_peft_names.source_files import SourceError

pytestmark = pytest.mark.full  # tier (tests/conftest.py)

SETTINGS = build_settings()


def scaled(examples: int) -> int:
    """`examples` under the `ci` profile (max_examples 100), ten times more under `dev` (1000)."""
    return max(1, examples * settings.default.max_examples // 100)


APPLIED = (Applicability.SAFE, Applicability.UNSAFE)
TRIGGER = "# peft adapter lora state_dict named_parameters\n"  # gets past the plugin's cheap pre-filter
# What the fixer may refuse, leaving the file as it is: LibCST's own limits, not ours.
LIBCST_LIMITS = ("cannot fix: LibCST cannot", "cannot fix: too deeply nested for LibCST")


def run_plugin(source: str) -> list[tuple[int, int, str]]:
    tree = ast.parse(source)
    found = [(line, col, text) for line, col, text, _ in Plugin(tree, source.splitlines(keepends=True)).run()]
    assert not [text for *_, text in found if text.startswith("PFT000")], found
    check_tree(tree, source.splitlines(keepends=True), SETTINGS)  # raises nothing either
    return found


def parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Generated Python never crashes the plugin


@settings(max_examples=scaled(30))
@given(hypothesmith.from_grammar())
def test_plugin_never_raises_on_grammar_generated_code(source: str) -> None:
    assume(parses(TRIGGER + source))
    run_plugin(TRIGGER + source)


@settings(max_examples=scaled(6))
@given(hypothesmith.from_node())
def test_plugin_never_raises_on_libcst_generated_code(source: str) -> None:
    assume(parses(TRIGGER + source))
    run_plugin(TRIGGER + source)


@settings(max_examples=scaled(200))
@given(st.binary(max_size=300) | st.text(alphabet="peft_lora(){}[]:=,.'\" \n\t\\#fx0123", max_size=200).map(str.encode))
def test_reading_any_bytes_gives_findings_or_a_source_error(raw: bytes) -> None:
    try:
        check_file(b"# peft adapter\n" + raw, "any.py", load_config({}, isolated=True))
    except SourceError as error:
        assert str(error) and "\n" not in str(error)


OPTIONS = ["select", "ignore", "extend-select", "extend-ignore", "exclude", "extend-exclude", "per-file-ignores",
           "peft-version", "peft-methods", "include-docs", "cell-syntax-errors"]
OPTION_VALUES = st.text(max_size=24) | st.sampled_from(
    ["PFT", "PFT1", "PFT999", "pft1", "PFT000", "E,W", ">=0.17", "===0.17.1", "==0.16.1", "installed", "<0", "~=1",
     "lora", "LoraConfig", "lora,,ia3", "*.py:PFT1", "a.py", ":PFT1", "x.py:PFT1 y.py", "true", "No", "warning"]
)


@settings(max_examples=scaled(200))
@given(st.dictionaries(st.sampled_from(OPTIONS), OPTION_VALUES, max_size=4))
def test_any_option_values_give_a_config_or_a_one_line_config_error(options: dict) -> None:
    from flake8_peft_names.config import ConfigError

    try:
        load_config(options, isolated=True)
    except ConfigError as error:
        assert str(error) and "\n" not in str(error)


@settings(max_examples=scaled(100))
@given(
    st.one_of(st.none(), OPTION_VALUES), st.lists(OPTION_VALUES, max_size=3), st.lists(OPTION_VALUES, max_size=3),
    st.one_of(st.none(), OPTION_VALUES),
)
def test_any_option_values_give_the_plugin_settings_or_exit_code_2(
    version, methods: list, select: list, project_wide
) -> None:
    import argparse

    options = argparse.Namespace(peft_version=version, peft_methods=methods, select=select, ignore=None,
                                 extend_select=None, extend_ignore=[], project_wide=project_wide)
    saved = Plugin.settings, Plugin.index
    try:
        Plugin.parse_options(options)
    except SystemExit as exit:
        assert exit.code == 2
    finally:
        Plugin.settings, Plugin.index = saved


# ---------------------------------------------------------------------------------------------
# Programs that use adapter names and state dicts

HAZARDOUS = ["lora", "lora_A", "lora_B", "lora_", "lora_adapter", "weight", "bias", "q", "k", "v", "q_proj",
             "", "a.b", "train", "default", "base_layer", "modules_to_save", "head", "model", "ia3", "hada",
             "lora_embedding_A", "lora_magnitude_vector", "ora", "l", "lo"]
HARMLESS = ["sft", "sft2", "dpo", "adapter_1", "my-adapter", "über", "stage two", "x" * 40, "domain_a", "reward"]
NAMES = st.sampled_from(HAZARDOUS + HARMLESS) | st.text(alphabet="loraABqkv_.-0123 ", max_size=8)

CALLS = [
    "model = get_peft_model(base_model, config, adapter_name={x})",
    "model = PeftModel.from_pretrained(base_model, 'out/{n}', adapter_name={x})",
    "model = PeftModel(base_model, config, {x})",
    "model.load_adapter('out/{n}', adapter_name={x})",
    "model.load_adapter('out/{n}', {x})",
    "model.add_adapter({x}, config)",
    "model.set_adapter({x})",
    "model.set_adapter([{x}, {y}])",
    "model.delete_adapter({x})",
    "model.add_weighted_adapter([{x}, {y}], [0.5, 0.5], adapter_name={z})",
    "model.save_pretrained('out', selected_adapters=[{x}])",
    "merged = model.merge_and_unload(adapter_names=[{x}, {y}])",
    "state = get_peft_model_state_dict(model, adapter_name={x})",
    "set_peft_model_state_dict(model, state, adapter_name={x})",
    "pipe.load_lora_weights('out/{n}', adapter_name={x})",
    "pipe.set_adapters([{x}, {y}], adapter_weights=[1.0, 0.5])",
    "pipe.fuse_lora(adapter_names=[{x}])",
    "inject_adapter_in_model(config, model, {x})",
]
STATE_DICTS = [
    "state = {{k: v for k, v in model.state_dict().items() if 'lora' in k}}\ntorch.save(state, 'out/{n}.pt')",
    "state = {{k: v for k, v in model.state_dict().items() if 'lora_' in k and {x} in k}}\n"
    "torch.save(state, 'out/{n}.pt')",
    "trainable = {{n: p for n, p in model.named_parameters() if p.requires_grad}}\ntorch.save(trainable, 'out/{n}.pt')",
    "model.load_state_dict(get_peft_model_state_dict(model), strict=False)",
    "model.load_state_dict(get_peft_model_state_dict(model, adapter_name={x}), strict=False)",
    "torch.save(model.state_dict(), os.path.join(output_dir, 'adapter_model.bin'))",
    "state = {{}}\nfor key, value in model.state_dict().items():\n    if 'lora' in key:\n        state[key] = value\n"
    "torch.save(state, 'out/{n}.pt')",
    "lora_params = [p for n, p in model.named_parameters() if 'lora' in n]",
]
CONFIGS = [
    "config = LoraConfig(target_modules=['q_proj', 'v_proj'])",
    "config = LoraConfig(target_modules=['q_proj', 'v_proj'], modules_to_save=['head', 'score'])",
    "config = IA3Config(target_modules=['k_proj'], feedforward_modules=['k_proj'])",
    "config = LoHaConfig(r=8)",
    "config = LoraConfig(peft_type='LORA')",
    "config = make_config()",
]
IMPORTS = [
    "import os\nimport torch\nfrom peft import (LoraConfig, IA3Config, LoHaConfig, PeftModel, get_peft_model,\n"
    "    get_peft_model_state_dict, set_peft_model_state_dict, inject_adapter_in_model)",
    "import os, torch\nimport peft\nfrom peft import *",
    "import os\nimport torch\nfrom peft import LoraConfig, PeftModel, get_peft_model as gpm\n"
    "from peft import get_peft_model_state_dict\nget_peft_model = gpm",
    "import os\nimport torch\nfrom peft import PeftModel\nfrom peft.utils import get_peft_model_state_dict",
    "import os\nimport torch",
]


FORMS = ["literal", "literal", "constant", "default", "class", "argparse", "fstring", "concat"]


@dataclass
class Program:
    """A program being built: module-level definitions, then the body that uses them."""

    definitions: list[str]
    body: list[str]
    counter: itertools.count

    def name(self, draw, value: str) -> str:
        """An expression whose value is `value`, written one of the ways the checker knows."""
        n = next(self.counter)
        form = draw(st.sampled_from(FORMS))
        if form == "constant":
            self.definitions.append(f"NAME_{n} = {value!r}")
            return f"NAME_{n}"
        if form == "default":  # one more use: a parameter default passed on as the adapter name
            use = "model.load_adapter('out', adapter_name=name)"
            self.definitions.append(f"def load_{n}(model, name={value!r}):\n    {use}")
            return repr(value)
        if form == "class":
            self.definitions.append(f"class Names{n}:\n    adapter = {value!r}")
            return f"Names{n}.adapter"
        if form == "argparse":
            self.definitions.append(f"parser.add_argument('--adapter_{n}', default={value!r})")
            return f"args.adapter_{n}"
        if form == "fstring" and value and not set(value) & set("'{}\\"):
            self.definitions.append(f"PREFIX_{n} = {value[:1]!r}")
            return f"f'{{PREFIX_{n}}}{value[1:]}'"
        if form == "concat" and len(value) > 1:
            cut = len(value) // 2
            return f"{value[:cut]!r} + {value[cut:]!r}"
        return repr(value)


def _indent(code: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in code.splitlines(keepends=True))


@st.composite
def programs(draw) -> str:
    program = Program([], [], itertools.count())
    for _ in range(draw(st.integers(1, 5))):
        template = draw(st.sampled_from(CALLS + STATE_DICTS))
        values = {key: program.name(draw, draw(NAMES)) for key in ("x", "y", "z")}
        statement = template.format(n=next(program.counter), **values)
        suffix = draw(st.sampled_from(["", "", "", "  # noqa", "  # noqa: PFT102", "  # noqa: PFT1", "  # a comment"]))
        lines = statement.splitlines()
        lines[-1] += suffix
        program.body.append("\n".join(lines))
    where = draw(st.sampled_from(["module", "function", "main", "method", "loop", "with", "try"]))
    body = "\n".join(program.body) + "\n"
    if where == "function":
        body = "def train(model, pipe, base_model, state):\n" + _indent(body, "    ")
    elif where == "main":
        body = "if __name__ == '__main__':\n" + _indent(body, "    ")
    elif where == "method":
        body = "class Trainer:\n    def run(self, model, pipe, base_model, state):\n" + _indent(body, "        ")
    elif where == "loop":
        body = "for epoch in range(3):\n" + _indent(body, "    ")
    elif where == "with":
        body = "with torch.no_grad():\n" + _indent(body, "    ")
    elif where == "try":
        body = "try:\n" + _indent(body, "    ") + "except Exception:\n    pass\n"
    header = [draw(st.sampled_from(IMPORTS)), "import argparse", "parser = argparse.ArgumentParser()"]
    header.append(draw(st.sampled_from(CONFIGS)))
    source = "\n".join(header + program.definitions + ["args = parser.parse_args()", ""]) + "\n" + body
    if draw(st.booleans()):
        source = source.replace("    ", "\t")  # tabs throughout
    return source


def encoded(draw, source: str) -> bytes:
    """The program as a file: UTF-8, sometimes with a BOM or CRLF line endings."""
    layout = draw(st.sampled_from(["plain", "plain", "crlf", "bom"]))
    if layout == "crlf":
        return source.replace("\n", "\r\n").encode("utf-8")
    if layout == "bom":
        return b"\xef\xbb\xbf" + source.encode("utf-8")
    return source.encode("utf-8")


_FOLDER = tempfile.TemporaryDirectory(prefix="pft-properties-")
_FILES = itertools.count()


def assert_fix_is_sound(raw: bytes, note=note, event=event) -> None:
    source = raw.decode("utf-8-sig")
    assert parses(source)
    run_plugin(source)
    config = load_config({}, isolated=True)
    job = FileJob(config, "fix", frozenset(APPLIED), None)
    path = Path(_FOLDER.name) / f"program_{next(_FILES)}.py"
    path.write_bytes(raw)
    found, _ = check_file(raw, str(path), config)
    fixed_codes = {f.code for f in found if applicability(f) in APPLIED}
    note(f"findings: {[(f.line, f.col, f.code) for f in found]}")

    first = job(str(path))
    after = path.read_bytes()
    if first.error is not None:
        assert first.error.startswith(LIBCST_LIMITS), first.error
        assert after == raw
        event("the fixer refused: LibCST's limits")
        return
    event(f"fixed {', '.join(sorted(fixed_codes)) or 'nothing'}")
    compile(after, str(path), "exec", ast.PyCF_ONLY_AST)  # bytes: decoded as Python decodes a file
    note(f"fixed:\n{after.decode('utf-8-sig')}")
    if fixed_codes:
        assert after != raw and first.fixed > 0
    else:
        assert after == raw

    second = job(str(path))
    assert second.error is None, second.error
    assert path.read_bytes() == after and second.fixed == 0  # a fixpoint
    # Of a rule whose fixes were applied, only findings that had no fix may stay (a name built by an
    # f-string, a name no safe new name was found for), no more of them than before, and none fixable.
    left = [f for f in second.findings if f.code in fixed_codes]
    assert not [f for f in left if applicability(f) in APPLIED], left
    for code in fixed_codes:
        unfixable = sum(1 for f in found if f.code == code and applicability(f) not in APPLIED)
        assert sum(1 for f in left if f.code == code) <= unfixable, (code, left)
    path.unlink()


@settings(max_examples=scaled(80))
@given(st.data())
def test_fix_of_generated_programs_is_sound(data: st.DataObject) -> None:
    source = data.draw(programs())
    assume(parses(source))
    assert_fix_is_sound(encoded(data.draw, source))


@settings(max_examples=scaled(20))
@given(st.data(), hypothesmith.from_grammar())
def test_fix_of_programs_spliced_into_generated_code_is_sound(data: st.DataObject, generated: str) -> None:
    program = data.draw(programs())
    before = data.draw(st.booleans())
    source = (generated + "\n" + program) if before else (program + "\n" + generated)
    assume(parses(source))
    assert_fix_is_sound(encoded(data.draw, source))


# ---------------------------------------------------------------------------------------------
# Examples that once failed: kept as regression tests of the properties above

@pytest.mark.parametrize(
    "source",
    [
        # one name, several forms
        "from peft import get_peft_model\nNAME = 'lora'\nmodel = get_peft_model(m, c, adapter_name=NAME)\n"
        "model.load_adapter('x', adapter_name='lora')\n",
    ],
)
def test_known_examples(source: str) -> None:
    assert_fix_is_sound(source.encode(), note=print, event=lambda text: None)


# ---------------------------------------------------------------------------------------------
# Documents: the generated programs as code blocks of Markdown and reStructuredText

PROSE = ["Load the adapter:", "", "Some *text* with `adapter_name='lora'`.", "- a list item", "    indented prose"]
NOISE_MD = ["```bash\npip install peft lora\n```", "```python\nload(<your adapter>)\n```", "```\nadapter = lora\n```"]
NOISE_RST = [
    ".. code-block:: bash\n\n   pip install peft", ".. code-block:: python\n\n   load(<your adapter>)", "::\n\n   lora"
]


def _session(code: str) -> str:
    lines = code.rstrip("\n").split("\n")
    return "\n".join([f">>> {lines[0]}", *(f"... {line}".rstrip() for line in lines[1:])]) + "\n"


@st.composite
def documents(draw) -> tuple[str, str]:
    """(name, text): a Markdown or reStructuredText document whose Python blocks are generated programs
    (sometimes as `>>>` sessions, indented, between skip comments), among prose and blocks of no Python."""
    rst = draw(st.booleans())
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        parts.append(draw(st.sampled_from(PROSE)))
        if draw(st.integers(0, 3)) == 0:
            parts.append(draw(st.sampled_from(NOISE_RST if rst else NOISE_MD)))
        code = draw(programs()).replace("\t", "    ")
        session = draw(st.integers(0, 3)) == 0
        if session:
            code = _session(code)
        skipped = draw(st.integers(0, 5)) == 0
        if rst:
            indent = draw(st.sampled_from(["   ", "    ", "  "]))
            directive = ".. doctest::" if session else draw(st.sampled_from([".. code-block:: python", ".. code:: py"]))
            block = f"{directive}\n\n" + _indent(code, indent)
            parts.append(".. flake8-peft-names: off\n\n" + block + "\n.. flake8-peft-names: on" if skipped else block)
        else:
            indent = draw(st.sampled_from(["", "", "  "]))
            language = "pycon" if session else draw(st.sampled_from(["python", "py", "python3"]))
            fence = draw(st.sampled_from(["```", "~~~~"]))
            block = f"{indent}{fence}{language}\n" + _indent(code, indent) + f"{indent}{fence}"
            off, on = "<!-- flake8-peft-names: off -->", "<!-- flake8-peft-names: on -->"
            parts.append(f"{off}\n{block}\n{on}" if skipped else block)
    return ("doc.rst" if rst else "doc.md"), "\n\n".join(parts) + "\n"


def _outside_blocks(raw: bytes, name: str) -> list[str]:
    """The document's lines that are no code line of a block it has."""
    from flake8_peft_names.doc_blocks import markdown_blocks, rst_blocks
    from flake8_peft_names.source_files import physical_lines

    lines = physical_lines(raw.decode("utf-8"))
    blocks = rst_blocks(lines) if name.endswith(".rst") else markdown_blocks(lines)
    code = {place for block in blocks for place in block.places}
    return [line for index, line in enumerate(lines) if index not in code]


@settings(max_examples=scaled(40))
@given(documents(), st.booleans())
def test_fix_of_documents_is_sound_and_leaves_the_prose(document: tuple[str, str], crlf: bool) -> None:
    name, text = document
    raw = (text.replace("\n", "\r\n") if crlf else text).encode("utf-8")
    config = load_config({}, isolated=True)
    job = FileJob(config, "fix", frozenset(APPLIED), None)
    path = Path(_FOLDER.name) / f"{next(_FILES)}_{name}"
    path.write_bytes(raw)
    found, _ = check_file(raw, str(path), config)
    note(f"findings: {[(f.line, f.col, f.code) for f in found]}")
    first = job(str(path))
    after = path.read_bytes()
    if first.error is not None:  # a fix that would add a line to a session: refused, the file unchanged
        assert "interactive session" in first.error or first.error.startswith(LIBCST_LIMITS), first.error
        assert after == raw
        event("the fix was refused")
        path.unlink()
        return
    note(f"fixed:\n{after.decode()}")
    assert _outside_blocks(after, name) == _outside_blocks(raw, name)
    assert (after != raw) == (first.fixed > 0)
    event("fixed" if first.fixed else "found nothing to fix" if not found else "nothing fixable")
    second = job(str(path))
    assert second.error is None and second.fixed == 0 and path.read_bytes() == after  # a fixpoint
    assert not [f for f in second.findings if applicability(f) in APPLIED and f.code in {g.code for g in found}]
    path.unlink()


DOC_ALPHABET = "`~:.>- \n\tpeft_lora()[]='\"#!%?\\{}<>0123abcpythonrstcode-block"


@settings(max_examples=scaled(200))
@given(st.text(alphabet=DOC_ALPHABET, max_size=300), st.sampled_from(["x.md", "x.rst"]))
def test_reading_any_document_gives_findings_or_a_one_line_error(text: str, name: str) -> None:
    config = load_config({}, isolated=True)
    for raw in (("```python\n" + text).encode(), (".. code-block:: python\n\n   " + text).encode(), text.encode()):
        try:
            check_file(b"peft adapter lora\n" + raw, name, config)
        except SourceError as error:
            assert str(error) and "\n" not in str(error)
