"""What the project pass costs `check` on a whole corpus (issue 15; results in BENCHMARKS.md).

    python benchmarks/project_cost.py CORPUS [--rounds N] [--jobs J]

CORPUS holds one folder per package, each checked as its own project (the folder above its packages is the
root). Each round runs, one after another: the floor (benchmarks/parse_floor.py: read and `ast.parse` every
file), `flake8-peft-names check -jJ`, and the same with `--project-wide`; CPU is user+sys of the child
(workers included), with its peak memory. Prints the medians, the ratios to the floor of the same round, and
checks that both checks report the same findings (the corpus is library code: normally none).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


ENV = {**os.environ, "PYTHONPATH": str(ROOT), "FLAKE8_PEFT_NAMES_PROJECT_RANGE": "off"}


def _run(argv: list[str]) -> tuple[float, float, str]:
    """CPU s and wall s of one child (and its workers), and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return cpu, wall, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    packages = sorted(str(p) for p in args.corpus.iterdir() if p.is_dir())
    check = [sys.executable, "-m", "flake8_peft_names", "check", "--isolated", "--no-progress", f"-j{args.jobs}"]
    commands = {
        "floor": [sys.executable, str(HERE / "parse_floor.py"), *packages],
        "check": [*check, *packages],
        "check --project-wide": [*check, "--project-wide", *packages],
    }
    _run(commands["floor"])  # fills the page cache
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    wall: dict[str, list[float]] = {name: [] for name in commands}
    ratios: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    for round_ in range(args.rounds):
        for name, argv in commands.items():
            c, w, out = _run(argv)
            cpu[name].append(c)
            wall[name].append(w)
            outputs[name] = out
            print(f"round {round_ + 1}: {name}: CPU {c:.1f} s, wall {w:.1f} s", flush=True)
        for name in commands:
            ratios[name].append(cpu[name][-1] / cpu["floor"][-1])
    peaks = {name: _peak(argv) for name, argv in commands.items()}
    print(f"\n| command (-j{args.jobs}) | CPU s, median | wall s, median | / floor (median of rounds) | peak MB |")
    print("|---|---:|---:|---:|---:|")
    for name in commands:
        print(
            f"| {name} | {statistics.median(cpu[name]):.1f} | {statistics.median(wall[name]):.1f} | "
            f"{statistics.median(ratios[name]):.2f} | {peaks[name]:.0f} |"
        )
    same = outputs["check"] == outputs["check --project-wide"]
    print(f"\nsame findings with and without --project-wide: {'yes' if same else 'NO'}")
    return 0 if same else 1


def _peak(argv: list[str]) -> float:
    """The peak memory of one run, MB (of its largest process: GNU time)."""
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], env=ENV, capture_output=True, text=True, check=False)
    return int(done.stderr.strip().splitlines()[-1]) / 1024


if __name__ == "__main__":
    raise SystemExit(main())
