"""Robustness over millions of real lines: the code of pinned PyPI wheels of PEFT users (the benchmark's corpus).

Opt-in (marker `corpus`): `pytest tests/test_corpus.py --corpus -s`, or PFT_CORPUS=1. The wheels are
downloaded and unpacked by benchmarks/run.py's own functions into `.bench-cache/` (PFT_CORPUS_CACHE names
another folder), so the benchmark and this test read the same files. On a busy shared 2-core machine:
flake8 with the plugin alone 695 s, the every-20th-file sample with every plugin 235 s, check 183 s
(the former full flake8 pass over every file took more than 30 minutes there).

- flake8 -j2 with this plugin alone (pyflakes, pycodestyle and mccabe left out: they took most of the time)
  finishes on every file, with no PFT000;
- flake8 as users run it, with every plugin, finds the same on every 20th file, with no PFT000;
- `check` finds what flake8 finds;
- `check --fix --unsafe-fixes` on a copy, with an adapter-name finding appended to every 20th file, changes
  only files with fixable findings, fixes every probe and keeps every other byte, every changed file
  compiles, and a second run changes nothing;
- the fixer, asked to rename one string literal in each of a sample of the files (every 20th), changes
  exactly that literal and nothing else: every other byte stays as it was.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Optional

import pytest
from flake8.defaults import NOQA_FILE

from flake8_peft_names.fixer import FixError, fix_source
from flake8_peft_names.rule import Applicability, Finding, Fix, RenameAdapter
from tests.flake8_run import flake8_only_command
from tests.inprocess import physical_lines

pytestmark = [pytest.mark.corpus, pytest.mark.full]  # tiers: tests/conftest.py

REPO = Path(__file__).resolve().parent.parent
BENCHMARK = REPO / "benchmarks" / "run.py"
FORMAT = "%(path)s:%(row)d:%(col)d:%(code)s"
UNSAFE = frozenset({Applicability.SAFE, Applicability.UNSAFE})
LIBCST_LIMITS = ("LibCST cannot", "too deeply nested for LibCST")


def _benchmark():
    """benchmarks/run.py as a module: its PACKAGES, download() and unpack() build the corpus."""
    spec = importlib.util.spec_from_file_location("pft_benchmark_run", BENCHMARK)
    assert spec and spec.loader, BENCHMARK
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _benchmark()


@pytest.fixture(scope="module")
def packages(bench) -> list[str]:
    return [f"{name}-{version}" for name, version in bench.PACKAGES]


@pytest.fixture(scope="module")
def corpus(bench) -> Path:
    cache = Path(os.environ.get("PFT_CORPUS_CACHE") or bench.DEFAULT_CACHE).resolve()
    wheels = bench.download(bench.PACKAGES, cache)
    root = cache / "corpus"
    for (name, version), wheel in wheels.items():
        bench.unpack(wheel, root / f"{name}-{version}")
    return root


@pytest.fixture(scope="module")
def files(corpus: Path, packages: list[str]) -> list[Path]:
    found = []
    for package in packages:
        for folder, subfolders, names in os.walk(corpus / package):
            subfolders.sort()
            found.extend(Path(folder) / n for n in sorted(names) if n.endswith(".py"))
    return found


def report(capsys: pytest.CaptureFixture, *lines: str) -> None:
    with capsys.disabled():
        print("\n" + "\n".join(f"[corpus] {line}" for line in lines), flush=True)


def run(command: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=1800)
    return result, time.perf_counter() - started


def parse_findings(stdout: str) -> list[tuple[str, int, int, str]]:
    found = []
    for line in stdout.splitlines():
        path, row, col, code = line.rsplit(":", 3)
        found.append((os.path.normpath(path), int(row), int(col), code.strip()))
    return sorted(found)


@pytest.fixture(scope="module")
def flake8_run(corpus: Path, packages: list[str]) -> tuple[list[tuple[str, int, int, str]], float]:
    """flake8 -j2 over every file with this plugin alone (pyflakes, pycodestyle and mccabe, most of a full
    run's time, left out where flake8 finds its plugins): (PFT findings, seconds). Their codes are selected
    too: a finding of theirs would mean they ran after all."""
    command = flake8_only_command("--isolated", "--select=PFT,E,W,F,C90", "-j2", f"--format={FORMAT}", *packages)
    result, seconds = run(command, corpus)
    assert result.returncode in (0, 1), result.stderr[-5000:]
    assert "Traceback" not in result.stderr and "failed during execution" not in result.stderr, result.stderr[-5000:]
    found = parse_findings(result.stdout)
    others = Counter(code for *_, code in found if not code.startswith("PFT") and code not in FLAKE8_OWN)
    assert not others, f"other plugins ran: {others.most_common(5)}"
    return [f for f in found if f[3].startswith("PFT")], seconds


FLAKE8_OWN = ("E902", "E999")  # flake8 itself: a file it cannot tokenize or parse (no plugin runs on it)


def test_flake8_with_the_plugin_finishes_on_every_file(flake8_run, files: list[Path], packages, capsys) -> None:
    found, seconds = flake8_run
    lines = sum(_count_lines(path.read_bytes()) for path in files)
    codes = Counter(code for *_, code in found)
    report(
        capsys,
        f"flake8 --select=PFT -j2, this plugin alone, over {len(files)} files, {lines} lines "
        f"of {len(packages)} packages: {seconds:.0f} s",
        f"findings: {len(found)} in {len({p for p, *_ in found})} files: "
        + (", ".join(f"{code} {n}" for code, n in sorted(codes.items())) or "none"),
        *(f"  {path}:{row}:{col}: {code}" for path, row, col, code in found),
    )
    assert codes.get("PFT000", 0) == 0


# flake8 as users run it (with pyflakes, pycodestyle and mccabe) on every AS_USERS_EVERY-th file
AS_USERS_EVERY = int(os.environ.get("PFT_CORPUS_AS_USERS_EVERY", "20"))


def test_flake8_as_users_run_it_on_a_sample_reports_the_same(
    flake8_run, corpus: Path, files: list[Path], capsys
) -> None:
    sample = sorted(os.path.normpath(str(p.relative_to(corpus))) for p in files[::AS_USERS_EVERY])
    command = [sys.executable, "-m", "flake8", "--isolated", "--select=PFT", "-j2", f"--format={FORMAT}", *sample]
    result, seconds = run(command, corpus)
    assert result.returncode in (0, 1), result.stderr[-5000:]
    assert "Traceback" not in result.stderr and "failed during execution" not in result.stderr, result.stderr[-5000:]
    found = parse_findings(result.stdout)
    report(capsys, f"flake8 --select=PFT -j2 with every plugin (as users run it) on every {AS_USERS_EVERY}th "
           f"file: {len(sample)} files, {seconds:.0f} s, {len(found)} findings")
    assert not [f for f in found if f[3] == "PFT000"]
    chosen = set(sample)
    assert found == [f for f in flake8_run[0] if f[0] in chosen]


@pytest.fixture(scope="module")
def copy(corpus: Path, packages: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("corpus-copy")
    for package in packages:
        shutil.copytree(corpus / package, target / package, ignore=shutil.ignore_patterns(".unpacked"))
    return target


def _check(copy: Path, packages: list[str], *args: str) -> tuple[subprocess.CompletedProcess, float]:
    command = [sys.executable, "-m", "flake8_peft_names", "check", "--isolated", "--no-progress", "-j2", *args]
    command += packages
    result, seconds = run(command, copy)
    assert result.returncode in (0, 1), result.stderr[-5000:]
    assert "Traceback" not in result.stderr, result.stderr[-5000:]
    return result, seconds


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": error: " in line]


def test_check_agrees_with_flake8(flake8_run, copy: Path, packages: list[str], capsys) -> None:
    result, seconds = _check(copy, packages, "--output-format=json")
    records = json.loads(result.stdout or "[]")
    ours = sorted((os.path.normpath(r["path"]), r["line"], r["column"], r["code"]) for r in records)
    errors = _errors(result.stderr)
    report(capsys, f"check -j2: {len(records)} findings in {seconds:.0f} s; files it could not check: {len(errors)}",
           *(f"  {line}" for line in errors))
    for line in errors:  # only files Python itself cannot read are reported, once each
        path = copy / line.split(": error: ")[0]
        assert not _python_reads(path.read_bytes()), line
    assert len(errors) == len({line.split(": error: ")[0] for line in errors})
    assert ours == flake8_run[0]


# Appended to every FIX_EVERY-th file of the copy, so that --fix has real files to fix (the wheels themselves
# have no finding): `'my.adapter'` is PFT101 whatever the peft version and method (`'lora'` would not be in a
# file that uses only IA3 or prefix tuning), renamed by the unsafe fix.
PROBE = (
    "from peft import get_peft_model as _pft_probe\n"
    "_pft_model = _pft_probe(None, None, adapter_name='my.adapter')\n"
)
FIXED_PROBE = re.compile(r"_pft_model = _pft_probe\(None, None, adapter_name='([\w-]+)'\)\r?\n\Z")


def _with_probe(raw: bytes) -> bytes:
    newline = b"\r\n" if raw.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    lead = newline if raw and not raw.endswith((b"\n", b"\r")) else b""
    return raw + lead + PROBE.encode().replace(b"\n", newline)


def test_fix_changes_only_files_with_fixable_findings_and_is_a_fixpoint(
    copy: Path, corpus: Path, files: list[Path], packages: list[str], capsys
) -> None:
    probed = {}
    for path in files[::FIX_EVERY]:
        name = os.path.normpath(str(path.relative_to(corpus)))
        probed[name] = path.read_bytes()
        (copy / name).write_bytes(_with_probe(probed[name]))
    result, _ = _check(copy, packages, "--output-format=json")
    records = json.loads(result.stdout or "[]")
    fixable = {
        os.path.normpath(r["path"]) for r in records if (r.get("fix") or {}).get("applicability") in ("safe", "unsafe")
    }
    unseen = sorted(set(probed) - fixable)
    # flake8 skips a file with a `# flake8: noqa` line; the CLI does too
    assert all(any(NOQA_FILE.match(line) for line in probed[name].decode("latin-1").splitlines()) for name in unseen), (
        unseen[:20]
    )
    before = _snapshot(copy, packages)

    fixed, seconds = _check(copy, packages, "--fix", "--unsafe-fixes")
    after = _snapshot(copy, packages)
    changed = sorted(path for path in before if before[path] != after[path])
    fix_errors = [line for line in _errors(fixed.stderr) if ": error: cannot fix: " in line]
    lines = sum(_count_lines(after[path]) for path in changed)
    report(
        capsys,
        f"check --fix --unsafe-fixes -j2 after a PFT101 probe was appended to {len(probed)} files: {seconds:.0f} s; "
        f"{len(fixable)} files with fixable findings, {len(changed)} changed ({lines} lines), "
        f"{len(fix_errors)} not fixable: {fixed.stderr.strip().splitlines()[-1:] or ''}",
        *(f"  changed {path}" for path in changed if path not in probed),
        *(f"  {line}" for line in fix_errors),
    )
    assert set(before) == set(after)
    assert set(changed) <= fixable
    not_fixed = {line.split(": error: cannot fix: ")[0] for line in fix_errors}
    for line in fix_errors:
        assert line.split(": error: cannot fix: ")[1].startswith(LIBCST_LIMITS), line
    assert set(probed) - set(unseen) - not_fixed <= set(changed)
    for path in changed:
        assert _python_reads(after[path]), path
        if path in probed:  # the file as it was, then the probe with another name: every other byte kept
            original = probed[path]
            assert after[path][: len(original)] == original, path
            tail = after[path][len(original):].decode("ascii").lstrip("\r\n").split("\n", 1)[1]
            renamed = FIXED_PROBE.match(tail)
            assert renamed, (path, tail)

    again, _ = _check(copy, packages, "--fix", "--unsafe-fixes")
    assert _snapshot(copy, packages) == after and "Fixed" not in again.stderr


# ---------------------------------------------------------------------------------------------
# The fixer on every file: one literal renamed, every other byte kept


# The fixer (LibCST, positions, code generation) takes about a minute per 100,000 lines: every 20th file,
# about 340 files (PFT_CORPUS_FIX_EVERY=1: all of them, about an hour on 2 cores).
FIX_EVERY = int(os.environ.get("PFT_CORPUS_FIX_EVERY", "20"))


def test_fixer_changes_exactly_the_literal_it_renames(files: list[Path], capsys) -> None:
    started = time.perf_counter()
    sample = files[::FIX_EVERY]
    with ProcessPoolExecutor(2) as pool:
        outcomes = list(pool.map(_rename_one_literal, [str(p) for p in sample], chunksize=8))
    kinds = Counter(kind for kind, _ in outcomes)
    refusals = Counter(detail for kind, detail in outcomes if kind == "refused")
    lines = sum(_count_lines(p.read_bytes()) for p in sample)
    report(
        capsys,
        f"fixer, one literal renamed per file, every {FIX_EVERY}th file: {len(sample)} files, {lines} lines in "
        f"{time.perf_counter() - started:.0f} s: "
        + ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items())),
        *(f"  refused ({n} files): {reason}" for reason, n in refusals.most_common()),
    )
    wrong = [(kind, detail) for kind, detail in outcomes if kind == "wrong"]
    assert not wrong, wrong[:20]
    assert kinds["renamed"] > 0.9 * (len(sample) - kinds["no literal"] - kinds["unreadable"])


def _rename_one_literal(name: str) -> tuple[str, str]:
    """('renamed' | 'refused' | 'no literal' | 'unreadable' | 'wrong', detail) for one file."""
    path = Path(name)
    raw = path.read_bytes()
    try:
        text = importlib.util.decode_source(raw)
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return "unreadable", name
    literal = _first_plain_literal(tree, text)
    if literal is None:
        return "no literal", name
    line, col, end_col, quote, value = literal
    new_value = value + "_renamed"
    finding = Finding(
        "PFT102", line, col, line, end_col, "test",
        Fix(Applicability.UNSAFE, RenameAdapter(value, new_value), "rename"),
    )
    try:
        new = fix_source(raw, [finding], UNSAFE)
    except FixError as error:
        reason = str(error)
        kind = "refused" if reason.startswith(LIBCST_LIMITS) else "wrong"
        return kind, reason.split(":")[0] if kind == "refused" else f"{name}: {reason}"
    lines = physical_lines(text)
    old_line = lines[line - 1]
    lines[line - 1] = old_line[:col] + f"{quote}{new_value}{quote}" + old_line[end_col:]
    expected = "".join(lines)
    try:
        got = importlib.util.decode_source(new)
    except (SyntaxError, ValueError) as error:
        return "wrong", f"{name}: the fixed file cannot be decoded: {error}"
    if got != expected:
        return "wrong", f"{name}: line {line}: {old_line!r} -> {physical_lines(got)[line - 1:line]!r}"
    if _encoding_of(new) != _encoding_of(raw) or new.startswith(b"\xef\xbb\xbf") != raw.startswith(b"\xef\xbb\xbf"):
        return "wrong", f"{name}: encoding changed"
    return "renamed", name


def _first_plain_literal(tree: ast.Module, text: str) -> Optional[tuple[int, int, int, str, str]]:
    """The first one-line string literal written as 'word' or "word": (line, col, end_col in
    characters, quote, value)."""
    lines = physical_lines(text)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or node.end_lineno != node.lineno:
            continue
        value = node.value
        if not value or not value.replace("_", "").isalnum() or not value.isascii():
            continue
        encoded = lines[node.lineno - 1].encode("utf-8")
        col = len(encoded[: node.col_offset].decode("utf-8", "replace"))
        end_col = len(encoded[: node.end_col_offset].decode("utf-8", "replace"))
        segment = lines[node.lineno - 1][col:end_col]
        for quote in ("'", '"'):
            if segment == f"{quote}{value}{quote}":
                return node.lineno, col, end_col, quote, value
    return None


def _encoding_of(raw: bytes) -> str:
    import io
    import tokenize

    try:
        return tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
    except SyntaxError:
        return "?"


# ---------------------------------------------------------------------------------------------


def _snapshot(root: Path, packages: list[str]) -> dict[str, bytes]:
    found = {}
    for package in packages:
        for folder, _, names in os.walk(root / package):
            for name in names:
                path = Path(folder) / name
                found[os.path.normpath(str(path.relative_to(root)))] = path.read_bytes()
    return found


def _python_reads(raw: bytes) -> bool:
    try:
        ast.parse(importlib.util.decode_source(raw))
    except (SyntaxError, ValueError):
        return False
    return True


def _count_lines(raw: bytes) -> int:
    return raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0)
