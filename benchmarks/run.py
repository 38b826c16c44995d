#!/usr/bin/env python3
"""Speed benchmark of flake8-peft-names on the code of real PEFT users (issue 6; results in BENCHMARKS.md).

    .venvs/main/bin/python benchmarks/run.py [--quick] [--repeat N] [--cache DIR] [--corpus DIR]

Run it with the Python that has flake8 and flake8-peft-names installed. It

1. downloads pinned wheels of PEFT users from PyPI (`pip download --no-deps --only-binary=:all:`) into
   the cache and unpacks their .py files (the *full corpus*, one folder per package);
2. builds the *timing corpus*: every package, each cut to about `--max-lines-per-package` lines by
   taking every k-th file in path order (packages below the cap stay whole);
3. measures on the timing corpus, alternating the commands in each round (rotating their order):
   flake8 -j1 without the plugin, flake8 -j1 with it, flake8 -j1 with TorchFix (own venv in the cache),
   `flake8-peft-names check -j1` and `-j2`, and the floor (read and `ast.parse` every file, one process).
   CPU time is user+sys of the child and its children (os.wait4), wall time is elapsed time. Run (b)
   also sums the CPU time spent inside the plugin (its import and its run()), in-process: the plugin's
   share that the noise of a busy machine cannot blur;
4. runs `check --fix --unsafe-fixes -j1` on a copy of the timing corpus, counting LibCST parses;
5. measures the peak memory (max RSS) of `check -j1` on the timing corpus and on 4 copies of it,
   and `check -j2` on the 4 copies (a job long enough to show the second core at work);
6. runs `check --output-format=json` on the full corpus: findings per package, and every finding in
   <cache>/findings.json and <cache>/findings.txt for review.

flake8 with and without the plugin run in the same interpreter through benchmarks/flake8_without.py,
which drops the plugin's entry point from flake8's plugin discovery: the two runs differ only by the
plugin. `--quick` uses one small package (or `--corpus DIR`), one round, and no TorchFix unless its venv
is already in the cache; it exists so the test suite can prove the script works. Timings are never
asserted anywhere.
"""
from __future__ import annotations

import argparse
import compileall
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_CACHE = REPO / ".bench-cache"

# Real PEFT users, pinned; all exist as wheels on PyPI.
PACKAGES = (
    ("peft", "0.21.2"),
    ("trl", "1.16.0"),
    ("diffusers", "0.42.1"),
    ("axolotl", "0.19.0"),
    ("llamafactory", "0.9.5"),
    ("ms-swift", "4.6.0"),
    ("transformers", "5.24.0"),
    ("unsloth", "2026.10.9"),
)
QUICK_PACKAGES = (("llamafactory", "0.9.5"),)
TORCHFIX = ("torchfix", "0.7.0")
FLAKE8_DISTS = ("flake8", "pyflakes", "pycodestyle", "mccabe")  # pinned in TorchFix's venv as installed here
PLUGIN_DIST = "flake8-peft-names"
MAX_LINES_PER_PACKAGE = 20_000
QUICK_MAX_LINES = 3_000

TARGET_OVERHEAD = 0.03
TARGET_FLOOR_RATIO = 2.0

# Command keys, in the order of the table.
FLAKE8, FLAKE8_PFT, FLAKE8_TOR, CHECK_J1, CHECK_J2, FLOOR = "a", "b", "c", "d1", "d2", "e"
LABELS = {
    FLAKE8: "(a) flake8 -j1, no plugin",
    FLAKE8_PFT: "(b) flake8 -j1 + flake8-peft-names",
    FLAKE8_TOR: "(c) flake8 -j1 + TorchFix",
    CHECK_J1: "(d) flake8-peft-names check -j1",
    CHECK_J2: "(d) flake8-peft-names check -j2",
    FLOOR: "(e) ast.parse floor, one process",
}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Running one command


@dataclass
class Run:
    cpu: float  # user + sys seconds of the child and the children it waited for
    wall: float
    rss_mb: float  # max RSS of the child (its largest process)
    returncode: int
    stderr: str


def measure(command: list[str], cwd: Path, stdout: Optional[Path] = None, ok: tuple[int, ...] = (0,)) -> Run:
    with open(stdout or os.devnull, "wb") as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if process.returncode not in ok:
        raise SystemExit(f"benchmark: command failed ({process.returncode}): {' '.join(command)}\n{stderr[-3000:]}")
    return Run(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, process.returncode, stderr)


# ---------------------------------------------------------------------------------------------
# Corpus


@dataclass
class Corpus:
    root: Path
    packages: list[str]  # folders directly under root, one per package ("." for loose files)
    files: dict[str, int] = field(default_factory=dict)  # per package
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def targets(self) -> list[str]:
        return self.packages

    @property
    def total_files(self) -> int:
        return sum(self.files.values())

    @property
    def total_lines(self) -> int:
        return sum(self.lines.values())


def python_files(folder: Path) -> list[Path]:
    found = []
    for current, subfolders, names in os.walk(folder):
        subfolders.sort()
        found.extend(Path(current) / n for n in sorted(names) if n.endswith(".py"))
    return found


def count_lines(raw: bytes) -> int:
    return raw.count(b"\n") + (1 if raw and not raw.endswith(b"\n") else 0)


def describe(root: Path) -> Corpus:
    packages = sorted(p.name for p in root.iterdir() if p.is_dir() and python_files(p))
    if any(p.suffix == ".py" for p in root.iterdir() if p.is_file()):
        raise SystemExit(f"benchmark: {root} has loose .py files; put each package in its own folder")
    corpus = Corpus(root, packages)
    for package in packages:
        files = python_files(root / package)
        corpus.files[package] = len(files)
        corpus.lines[package] = sum(count_lines(f.read_bytes()) for f in files)
    return corpus


def wheel_name(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-"


def download(packages, cache: Path) -> dict[tuple[str, str], Path]:
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    found = {}
    for name, version in packages:
        matches = sorted(wheels.glob(wheel_name(name, version) + "*.whl"))
        if not matches:
            log(f"downloading {name}=={version}")
            command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                       "--disable-pip-version-check", "-q", f"{name}=={version}", "-d", str(wheels)]
            subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
            matches = sorted(wheels.glob(wheel_name(name, version) + "*.whl"))
        if not matches:
            raise SystemExit(f"benchmark: no wheel for {name}=={version} in {wheels}")
        found[(name, version)] = matches[0]
    return found


def unpack(wheel: Path, target: Path) -> None:
    stamp = target / ".unpacked"
    if stamp.exists():
        return
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            path = Path(member.filename)
            if member.is_dir() or path.suffix != ".py" or path.is_absolute() or ".." in path.parts:
                continue
            out = target / path
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(archive.read(member))
    stamp.write_text(wheel.name)


def sample(full: Path, packages: list[str], target: Path, max_lines: int) -> None:
    """Each package whole if it is under `max_lines`, else every k-th file in path order."""
    spec = json.dumps({"packages": packages, "max_lines": max_lines})
    stamp = target.with_name(target.name + ".json")
    if target.exists() and stamp.exists() and stamp.read_text() == spec:
        return
    shutil.rmtree(target, ignore_errors=True)
    for package in packages:
        files = python_files(full / package)
        total = sum(count_lines(f.read_bytes()) for f in files)
        step = max(1, -(-total // max_lines))
        for path in files[::step]:
            out = target / path.relative_to(full)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
    stamp.write_text(spec)


def copies(source: Path, target: Path, times: int) -> list[str]:
    """`times` copies of `source`'s packages under `target`/copyN; the package folders, relative to target."""
    spec = f"{source} x{times}"
    stamp = target.with_name(target.name + ".txt")
    if not (target.exists() and stamp.exists() and stamp.read_text() == spec):
        shutil.rmtree(target, ignore_errors=True)
        for n in range(1, times + 1):
            shutil.copytree(source, target / f"copy{n}")
        stamp.write_text(spec)
    return [f"copy{n}" for n in range(1, times + 1)]


# ---------------------------------------------------------------------------------------------
# The tools


@dataclass
class Tools:
    python: str  # has flake8 and this plugin
    check: list[str]
    torchfix_python: Optional[str]

    def flake8(self, inert: str, python: Optional[str] = None) -> list[str]:
        return [python or self.python, str(HERE / "flake8_without.py"), inert, "-j1", "--isolated", "--exit-zero"]


def installed(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        raise SystemExit(f"benchmark: {dist} is not installed; run this with the Python that has "
                         "flake8 and flake8-peft-names (e.g. .venvs/main/bin/python)") from None


def torchfix_venv(cache: Path, create: bool) -> Optional[str]:
    venv = cache / "venv-torchfix"
    python = venv / "bin" / "python"
    wanted = [f"{d}=={installed(d)}" for d in FLAKE8_DISTS] + ["==".join(TORCHFIX)]
    stamp = venv / ".bench-requirements"
    if python.exists() and stamp.exists() and stamp.read_text() == " ".join(wanted):
        return str(python)
    if not create:
        return None
    log(f"creating {venv} with {' '.join(wanted)}")
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *wanted], check=True)
    stamp.write_text(" ".join(wanted))
    return str(python)


def tools(cache: Path, want_torchfix: bool, create_torchfix: bool) -> Tools:
    installed("flake8")
    installed(PLUGIN_DIST)
    script = Path(sys.executable).parent / "flake8-peft-names"
    check = [str(script)] if script.exists() else [sys.executable, "-m", "flake8_peft_names"]
    torchfix = torchfix_venv(cache, create_torchfix) if want_torchfix else None
    return Tools(sys.executable, check, torchfix)


def verify_plugins(found: Tools, cwd: Path) -> dict[str, str]:
    """flake8 --version of each flavour, proving which plugins each one loads."""
    versions = {}
    for key, inert, python, must, must_not in (
        (FLAKE8, PLUGIN_DIST, None, None, PLUGIN_DIST),
        (FLAKE8_PFT, "", None, PLUGIN_DIST, None),
        (FLAKE8_TOR, "", found.torchfix_python, "torchfix", PLUGIN_DIST),
    ):
        if key == FLAKE8_TOR and not found.torchfix_python:
            continue
        command = [python or found.python, str(HERE / "flake8_without.py"), inert, "--version"]
        text = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout
        text = " ".join(text.split())
        if (must and must not in text.lower()) or (must_not and must_not in text.lower()):
            raise SystemExit(f"benchmark: unexpected plugins for {LABELS[key]}: {text}")
        versions[key] = text
    return versions


# ---------------------------------------------------------------------------------------------
# Measurements


def timing_commands(found: Tools, corpus: Corpus) -> dict[str, list[str]]:
    targets = corpus.targets
    commands = {
        FLAKE8: [*found.flake8(PLUGIN_DIST), *targets],
        FLAKE8_PFT: [*found.flake8("+" + PLUGIN_DIST), *targets],  # also times the plugin in-process
        CHECK_J1: [*found.check, "check", "--no-progress", "--isolated", "-j1", *targets],
        CHECK_J2: [*found.check, "check", "--no-progress", "--isolated", "-j2", *targets],
        FLOOR: [found.python, str(HERE / "parse_floor.py"), *targets],
    }
    if found.torchfix_python:
        commands[FLAKE8_TOR] = [*found.flake8("", found.torchfix_python), *targets]
    return dict(sorted(commands.items(), key=lambda item: list(LABELS).index(item[0])))


def rounds(commands: dict[str, list[str]], corpus: Corpus, out: Path, repeat: int, torchfix_repeat: int):
    runs: dict[str, list[Run]] = defaultdict(list)
    out.mkdir(parents=True, exist_ok=True)
    # Byte-compiled, as pip installs it: with PYTHONDONTWRITEBYTECODE set (as on the CI machines) the package
    # would otherwise be compiled from source at every import, which users never pay, inside the plugin's share.
    compileall.compile_dir(str(REPO / "flake8_peft_names"), quiet=1)
    log("warm-up: the floor once (fills the page cache)")
    measure(commands[FLOOR], corpus.root)
    for number in range(repeat):
        keys = [k for k in commands if k != FLAKE8_TOR or number < torchfix_repeat]
        shift = number % len(keys)
        for key in keys[shift:] + keys[:shift]:
            run = measure(commands[key], corpus.root, out / f"{key}.txt", ok=(0, 1))
            runs[key].append(run)
            log(f"round {number + 1}/{repeat}  {LABELS[key]:40s} cpu {run.cpu:7.2f} s  wall {run.wall:7.2f} s")
    return runs


def findings_json(found: Tools, corpus: Corpus, out: Path) -> tuple[list[dict], Run]:
    command = [*found.check, "check", "--no-progress", "--isolated", "--output-format", "json",
               f"-j{os.cpu_count() or 1}", *corpus.targets]
    run = measure(command, corpus.root, out, ok=(0, 1))
    return json.loads(out.read_text() or "[]"), run


def package_of(path: str) -> str:
    return Path(path).parts[0]


def fixable(records: list[dict]) -> tuple[set[str], int, int]:
    files, safe, unsafe = set(), 0, 0
    for record in records:
        kind = (record.get("fix") or {}).get("applicability")
        if kind in ("safe", "unsafe"):
            files.add(record["path"])
            safe += kind == "safe"
            unsafe += kind == "unsafe"
    return files, safe, unsafe


@dataclass
class FixResult:
    run: Run
    fixable_files: int
    safe: int
    unsafe: int
    parses: Optional[int]
    changed_files: int
    remaining: int
    message: str
    errors: list[str]


def fix_run(found: Tools, corpus: Corpus, records: list[dict], cache: Path) -> FixResult:
    copy = cache / "fix-copy"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(corpus.root, copy)
    files, safe, unsafe = fixable(records)
    command = [found.python, str(HERE / "count_libcst_parses.py"), "check", "--fix", "--unsafe-fixes",
               "--no-progress", "--isolated", "--output-format", "json", "-j1", *corpus.targets]
    out = cache / "out" / "fix.json"
    run = measure(command, copy, out, ok=(0, 1))
    parses = None
    message, errors = "", []
    for line in run.stderr.splitlines():
        if line.startswith("libcst_parse_module_calls="):
            parses = int(line.partition("=")[2])
        elif line.startswith("Fixed "):
            message = line
        elif ": error: " in line:
            errors.append(line)
    changed = sum(
        1 for package in corpus.packages for path in python_files(corpus.root / package)
        if path.read_bytes() != (copy / path.relative_to(corpus.root)).read_bytes()
    )
    remaining = len(json.loads(out.read_text() or "[]"))
    return FixResult(run, len(files), safe, unsafe, parses, changed, remaining, message, errors)


def memory_runs(found: Tools, corpus: Corpus, cache: Path, repeat: int) -> dict[str, list[Run]]:
    """check -j1 on the timing corpus and on 4 copies of it (memory), and -j2 on the 4 copies (cores)."""
    big = cache / (corpus.root.name + "-x4")
    targets_4x = [f"{c}/{p}" for c in copies(corpus.root, big, 4) for p in corpus.packages]
    check = [*found.check, "check", "--no-progress", "--isolated"]
    runs: dict[str, list[Run]] = defaultdict(list)
    for number in range(repeat):
        for key, cwd, jobs, targets in (
            ("1x", corpus.root, "-j1", corpus.targets),
            ("4x", big, "-j1", targets_4x),
            ("4x-j2", big, "-j2", targets_4x),
        ):
            run = measure([*check, jobs, *targets], cwd, ok=(0, 1))
            runs[key].append(run)
            log(f"memory {number + 1}/{repeat}  check {jobs} {key}: max RSS {run.rss_mb:.1f} MB, "
                f"cpu {run.cpu:.2f} s, wall {run.wall:.2f} s")
    return runs


# ---------------------------------------------------------------------------------------------
# Report


def median(values) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

        commit, dirty = git("rev-parse", "--short", "HEAD"), git("status", "--porcelain", "--", "flake8_peft_names")
        code = f"flake8-peft-names code: commit {commit or 'unknown'}"
        code += " + uncommitted changes in flake8_peft_names/" if dirty else ""
    except OSError:
        code = "flake8-peft-names code: not a git checkout"
    return [
        code,
        f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {model}",
        f"python: {platform.python_implementation()} {platform.python_version()} on {platform.platform()}",
        f"flake8 {installed('flake8')}, pyflakes {installed('pyflakes')}, pycodestyle {installed('pycodestyle')}, "
        f"flake8-peft-names {installed(PLUGIN_DIST)}, TorchFix {TORCHFIX[1]} (own venv)",
    ]


def corpus_table(title: str, corpus: Corpus) -> list[str]:
    rows = [f"{title}: {corpus.root}", "", "| package | files | lines |", "|---|---:|---:|"]
    rows += [f"| {p} | {corpus.files[p]} | {corpus.lines[p]} |" for p in corpus.packages]
    rows.append(f"| total | {corpus.total_files} | {corpus.total_lines} |")
    return rows


def verdict(holds: bool) -> str:
    return "HOLDS" if holds else "FAILS"


def timing_table(runs: dict[str, list[Run]]) -> list[str]:
    rows = ["| command | runs | CPU median s | CPU min–max s | wall median s | max RSS MB |",
            "|---|---:|---:|---:|---:|---:|"]
    for key, label in LABELS.items():
        if key not in runs:
            rows.append(f"| {label} | 0 | skipped (no TorchFix venv) | | | |")
            continue
        cpu = [r.cpu for r in runs[key]]
        rows.append(
            f"| {label} | {len(cpu)} | {median(cpu):.2f} | {min(cpu):.2f}–{max(cpu):.2f} "
            f"| {median([r.wall for r in runs[key]]):.2f} | {max(r.rss_mb for r in runs[key]):.0f} |"
        )
    return rows


def plugin_share(run: Run) -> Optional[tuple[float, float]]:
    """(plugin CPU / the rest of the process's CPU, plugin CPU) as flake8_without.py +DIST reports them."""
    for line in run.stderr.splitlines():
        if line.startswith("plugin_cpu="):
            fields = dict(item.split("=") for item in line.split())
            plugin, process = float(fields["plugin_cpu"]), float(fields["process_cpu"])
            return plugin / (process - plugin), plugin
    return None


def ratio_lines(runs: dict[str, list[Run]]) -> tuple[list[str], dict[str, float]]:
    cpu = {k: median([r.cpu for r in v]) for k, v in runs.items()}
    wall = {k: median([r.wall for r in v]) for k, v in runs.items()}
    paired = [b.cpu / a.cpu - 1 for a, b in zip(runs[FLAKE8], runs[FLAKE8_PFT])]
    overhead = cpu[FLAKE8_PFT] / cpu[FLAKE8] - 1
    floor = cpu[CHECK_J1] / cpu[FLOOR]
    values = {"overhead": overhead, "floor": floor}
    shares = [s for s in (plugin_share(r) for r in runs[FLAKE8_PFT]) if s is not None]
    if not shares:
        raise SystemExit("benchmark: run (b) did not report the plugin's CPU time")
    values["in_process"] = median([share for share, _ in shares])
    rows = [
        f"- plugin overhead, CPU (b)/(a) − 1: {overhead:+.1%} (per-round pairs {min(paired):+.1%} to "
        f"{max(paired):+.1%}; wall {wall[FLAKE8_PFT] / wall[FLAKE8] - 1:+.1%}); target ≤ +3%: "
        f"{verdict(overhead <= TARGET_OVERHEAD)}",
        f"- plugin overhead, in-process (CPU inside the plugin's import and run() / the rest of run (b)): "
        f"{values['in_process']:+.1%} (median of {len(shares)}, {min(x for x, _ in shares):+.1%} to "
        f"{max(x for x, _ in shares):+.1%}; plugin CPU median "
        f"{median([seconds for _, seconds in shares]):.2f} s); target ≤ +3%: "
        f"{verdict(values['in_process'] <= TARGET_OVERHEAD)}",
        f"- check -j1 / ast.parse floor, CPU: {floor:.2f}x (wall {wall[CHECK_J1] / wall[FLOOR]:.2f}x); "
        f"target ≤ 2x: {verdict(floor <= TARGET_FLOOR_RATIO)}",
        f"- check -j2 vs -j1: wall speedup {wall[CHECK_J1] / wall[CHECK_J2]:.2f}x, CPU "
        f"{cpu[CHECK_J2] / cpu[CHECK_J1]:.2f}x (on {len(os.sched_getaffinity(0))} usable cores)",
    ]
    if FLAKE8_TOR in cpu:
        rows.append(f"- TorchFix: flake8 + TorchFix / flake8 alone, CPU: {cpu[FLAKE8_TOR] / cpu[FLAKE8]:.2f}x "
                    f"(wall {wall[FLAKE8_TOR] / wall[FLAKE8]:.2f}x)")
    else:
        rows.append("- TorchFix: skipped (no TorchFix venv in the cache)")
    return rows, values


def findings_table(records: list[dict], corpus: Corpus) -> list[str]:
    codes = sorted({r["code"] for r in records})
    by_package: dict[str, Counter] = defaultdict(Counter)
    files: dict[str, set] = defaultdict(set)
    for record in records:
        package = package_of(record["path"])
        by_package[package][record["code"]] += 1
        files[package].add(record["path"])
    by_package["total"] = Counter(r["code"] for r in records)
    files["total"] = {r["path"] for r in records}

    def row(cells) -> str:
        return "| " + " | ".join(str(c) for c in cells) + " |"

    rows = [row(["package", "findings", "files with findings", *codes]), row(["---", *["---:"] * (2 + len(codes))])]
    for package in [*corpus.packages, "total"]:
        counter = by_package.get(package, Counter())
        rows.append(row([package, sum(counter.values()), len(files[package]), *(counter.get(c, 0) for c in codes)]))
    return rows


def write_findings(records: list[dict], cache: Path) -> tuple[Path, Path]:
    as_json, as_text = cache / "findings.json", cache / "findings.txt"
    as_json.write_text(json.dumps(records, indent=2) + "\n")
    lines = [f"{r['path']}:{r['line']}:{r['column']}: {r['code']} {r['message']}" for r in records]
    as_text.write_text("\n".join(lines) + ("\n" if lines else ""))
    return as_json, as_text


def count_codes(path: Path, prefix: str) -> int:
    return sum(1 for line in path.read_text(errors="replace").splitlines() if f": {prefix}" in line)


# ---------------------------------------------------------------------------------------------


def arguments(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one small package (or --corpus), one round")
    parser.add_argument("--repeat", type=int, help="rounds of alternated timings (default 6; --quick 1)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"cache folder (default {DEFAULT_CACHE})")
    parser.add_argument("--corpus", type=Path, help="use this folder (one sub-folder per package); no downloads")
    parser.add_argument("--max-lines-per-package", type=int,
                        help=f"timing corpus size per package (default {MAX_LINES_PER_PACKAGE}; "
                        f"--quick {QUICK_MAX_LINES})")
    parser.add_argument("--torchfix-repeat", type=int, default=1,
                        help="rounds that include flake8 + TorchFix, the slowest command (default 1)")
    parser.add_argument("--no-torchfix", action="store_true", help="skip flake8 + TorchFix")
    args = parser.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 6
    if args.max_lines_per_package is None:
        args.max_lines_per_package = QUICK_MAX_LINES if args.quick else MAX_LINES_PER_PACKAGE
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def prepare_corpora(args: argparse.Namespace, cache: Path) -> tuple[Corpus, Corpus]:
    """(full corpus, timing corpus)."""
    if args.corpus is not None:
        if not args.corpus.is_dir():
            raise SystemExit(f"benchmark: --corpus {args.corpus} is not a folder")
        corpus = describe(args.corpus.resolve())
        if not corpus.packages:
            raise SystemExit(f"benchmark: no .py files under {args.corpus}")
        return corpus, corpus
    packages = QUICK_PACKAGES if args.quick else PACKAGES
    wheels = download(packages, cache)
    full = cache / "corpus"
    names = []
    for (name, version), wheel in wheels.items():
        unpack(wheel, full / f"{name}-{version}")
        names.append(f"{name}-{version}")
    timing = cache / ("timing-quick" if args.quick else "timing")
    sample(full, names, timing, args.max_lines_per_package)
    keep = set(names)
    full_corpus = describe(full)
    for stale in set(full_corpus.packages) - keep:  # unpacked earlier, not in this run
        full_corpus.packages.remove(stale)
        del full_corpus.files[stale], full_corpus.lines[stale]
    return full_corpus, describe(timing)


def main(argv: Optional[list[str]] = None) -> int:
    args = arguments(argv)
    started = time.perf_counter()
    cache = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / "out"
    out.mkdir(exist_ok=True)

    full, timing = prepare_corpora(args, cache)
    found = tools(cache, not args.no_torchfix, create_torchfix=not args.quick)
    versions = verify_plugins(found, timing.root)

    log("findings on the full corpus")
    records, findings_run = findings_json(found, full, out / "findings-full.json")
    timing_records = records
    if timing.root != full.root:
        timing_records, _ = findings_json(found, timing, out / "findings-timing.json")

    commands = timing_commands(found, timing)
    runs = rounds(commands, timing, out, args.repeat, args.torchfix_repeat)
    fix = fix_run(found, timing, timing_records, cache)
    memory = memory_runs(found, timing, cache, min(args.repeat, 2))
    json_path, text_path = write_findings(records, cache)

    report = ["# flake8-peft-names speed benchmark", ""]
    given = " ".join(argv if argv is not None else sys.argv[1:])
    report += [f"command: {sys.executable} benchmarks/run.py {given}".rstrip()]
    report += machine()
    report += [f"{LABELS[k]}: flake8 {v}" for k, v in versions.items()]
    report += ["", *corpus_table("Timing corpus", timing)]
    if full.root != timing.root:
        report += ["", *corpus_table("Full corpus (findings only)", full)]
    report += ["", f"Timings on the timing corpus ({timing.total_files} files, {timing.total_lines} lines), "
               f"{args.repeat} alternated rounds (TorchFix in {min(args.torchfix_repeat, args.repeat)}):", ""]
    report += timing_table(runs)
    ratio_rows, values = ratio_lines(runs)
    report += ["", "Ratios (of medians):", *ratio_rows]

    plugin_found = count_codes(out / f"{FLAKE8_PFT}.txt", "PFT")
    report += [f"- agreement: flake8 + plugin reported {plugin_found} PFT findings, check {len(timing_records)}"
               f" ({'same' if plugin_found == len(timing_records) else 'DIFFERENT'})"]

    check_cpu = median([r.cpu for r in runs[CHECK_J1]])
    parsed = "not counted" if fix.parses is None else str(fix.parses)
    report += [
        "",
        "Fix (`check --fix --unsafe-fixes -j1` on a copy of the timing corpus):",
        f"- files with fixable findings (from check --output-format=json): {fix.fixable_files} "
        f"({fix.safe} safe + {fix.unsafe} unsafe fixable findings)",
        f"- files LibCST parsed (parse_module calls, counted): {parsed}",
        f"- {fix.message or 'Fixed nothing.'} Files changed: {fix.changed_files}; findings left: {fix.remaining}"
        + (f"; errors: {len(fix.errors)}" if fix.errors else ""),
        f"- time: CPU {fix.run.cpu:.2f} s, wall {fix.run.wall:.2f} s (check -j1 without fixing: CPU {check_cpu:.2f} s)",
        *(f"  - {e}" for e in fix.errors[:10]),
    ]
    rss1 = median([r.rss_mb for r in memory["1x"]])
    rss4 = median([r.rss_mb for r in memory["4x"]])
    report += [
        "",
        "Peak memory of `check -j1` (max RSS):",
        f"- 1x ({timing.total_files} files): {rss1:.1f} MB, CPU {median([r.cpu for r in memory['1x']]):.2f} s",
        f"- 4x ({4 * timing.total_files} files): {rss4:.1f} MB, CPU {median([r.cpu for r in memory['4x']]):.2f} s",
        f"- 4x / 1x: {rss4 / rss1:.2f}",
        f"- cores, on the 4x corpus: check -j1 wall {median([r.wall for r in memory['4x']]):.2f} s, -j2 wall "
        f"{median([r.wall for r in memory['4x-j2']]):.2f} s "
        f"(speedup {median([r.wall for r in memory['4x']]) / median([r.wall for r in memory['4x-j2']]):.2f}x)",
    ]
    report += ["", f"Findings per package (full corpus, {full.total_files} files, {full.total_lines} lines; "
               f"check -j{os.cpu_count() or 1} took CPU {findings_run.cpu:.1f} s, wall {findings_run.wall:.1f} s):", ""]
    report += findings_table(records, full)
    report += ["", f"All findings: {json_path} and {text_path}", ""]
    report += [f"Targets: plugin overhead ≤ 3%: {verdict(values['overhead'] <= TARGET_OVERHEAD)} (whole runs), "
               f"{verdict(values['in_process'] <= TARGET_OVERHEAD)} (in-process); "
               f"check ≤ 2x floor: {verdict(values['floor'] <= TARGET_FLOOR_RATIO)}; "
               f"memory flat (4x/1x ≤ 1.25): {verdict(rss4 / rss1 <= 1.25)}",
               f"Benchmark took {time.perf_counter() - started:.0f} s."]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
