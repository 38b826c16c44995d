"""`flake8-peft-names doctor [--repair OUTPUT_DIR] PATH...`: find (and repair) broken adapter checkpoints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from ..progress import Progress
from .diagnose import examine
from .output import FORMATS, Outcome, printable
from .reading import adapter_folders, read_checkpoint
from .repair import RepairError, write_repaired

USAGE_ERROR = 2
PROGRESS_AFTER = 20  # adapter folders: shorter runs get no progress bar


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="adapter folders, or folders holding them")
    parser.add_argument("--repair", metavar="OUTPUT_DIR", help="write repaired copies here (PATH is never changed)")
    parser.add_argument("--adapter", metavar="NAME", help="the adapter a hand-written file with several names is of")
    parser.add_argument("--output-format", choices=sorted(FORMATS), default="text")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def run(args: argparse.Namespace) -> int:
    """Exit status: 0 every checkpoint healthy, 1 problems (or unreadable paths), 2 usage error."""
    paths = [Path(p) for p in args.paths]
    usage = _usage_error(paths, args.repair)
    if usage:
        print(printable(f"flake8-peft-names doctor: {usage}"), file=sys.stderr)
        return USAGE_ERROR
    outcomes = diagnose_paths(paths, args.adapter, progress=not args.no_progress and sys.stderr.isatty())
    if args.repair:
        repair_all(outcomes, paths, Path(args.repair))
    sys.stdout.write(FORMATS[args.output_format](outcomes))
    problems = sum(len(o.exam.diagnoses) for o in outcomes if o.exam)
    errors = sum(1 for o in outcomes if o.error or o.repair_error)
    if args.output_format == "text":
        print(f"{len(outcomes)} checkpoint(s): {problems} problem(s), {errors} error(s).", file=sys.stderr)
    return 1 if problems or errors else 0


def _usage_error(paths: Sequence[Path], repair: Optional[str]) -> Optional[str]:
    for path in paths:
        if not path.exists():
            return f"{path}: no such file or folder"
        if not path.is_dir():
            return f"{path}: give the adapter folder (with adapter_config.json), not a file"
    if repair is not None:
        output = Path(repair).resolve()
        if output.exists() and (not output.is_dir() or any(output.iterdir())):
            return f"--repair {repair}: must be a new or empty folder"
        for path in paths:
            source = path.resolve()
            if output == source or source in output.parents or output in source.parents:
                return f"--repair {repair}: must lie outside {path} (the source is never written)"
    return None


def diagnose_paths(paths: Sequence[Path], adapter: Optional[str], progress: bool = False) -> list[Outcome]:
    outcomes: list[Outcome] = []
    folders: list[Path] = []
    for root in paths:
        found = list(adapter_folders(root, lambda p, e: outcomes.append(Outcome(str(p), error=e))))
        if not found and not any(o.path.startswith(str(root)) for o in outcomes):
            outcomes.append(Outcome(str(root), error="no adapter folder (adapter_config.json) here or below"))
        folders += found
    bar = Progress(len(folders), "adapters") if progress and len(folders) >= PROGRESS_AFTER else None
    for folder in folders:
        checkpoint = read_checkpoint(folder)
        outcomes.append(Outcome(checkpoint.shown, examine(checkpoint, adapter), checkpoint.error))
        if bar:
            bar.step()
    if bar:
        bar.close()
    return outcomes


def repair_all(outcomes: list[Outcome], roots: Sequence[Path], output: Path) -> None:
    for outcome in outcomes:
        exam = outcome.exam
        if exam is None or outcome.error:
            continue
        folder = exam.checkpoint.folder
        unrepaired = [d for d in exam.diagnoses if not d.repairable]
        if any(d.ambiguous for d in exam.diagnoses):
            outcome.notes.append("--repair: the keys map back to PEFT's in more than one way, no copy written")
            continue
        if not exam.repairable:
            if exam.diagnoses:
                outcome.notes.append("--repair: nothing repairable, no copy written")
            continue
        destination = output / _relative(folder, roots)
        try:
            write_repaired(exam, destination)
        except RepairError as error:
            outcome.repair_error = str(error)
            continue
        outcome.repaired_to = str(destination)
        for d in unrepaired:
            outcome.notes.append(f"--repair could not repair {d.problem.slug}: {d.repair or 'no repair known'}")


def _relative(folder: Path, roots: Sequence[Path]) -> Path:
    """Where under OUTPUT_DIR a folder's copy goes: its path below the PATH it was found in (with the
    PATH's own name when several PATHs are given)."""
    for root in roots:
        try:
            below = folder.relative_to(root)
        except ValueError:
            continue
        if len(roots) > 1:
            return Path(root.resolve().name) / below
        return below
    return Path(folder.name)
