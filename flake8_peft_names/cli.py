"""The `flake8-peft-names` command: check, diff and fix files; print a rule's docs."""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
from typing import Iterable, Iterator, Optional, Sequence

from . import __version__
from .config import Config, ConfigError, load_config
from .discovery import git_ignored, skipped_dir
from .docs import rule_page
from .doc_file import DOCS
from .file_job import NOTEBOOK, FileJob
from .fix_output import STDIN
from .peft_options import add_argparse_options
from .progress import Progress
from .report import FORMATS
from .results import FileResult, applicability, definition_links, fix_holder
from .rule import Applicability, Finding
from .rules import RULES, RULES_BY_CODE, RULES_BY_NAME

USAGE_ERROR = 2


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "rule":
        return _rule(args)
    if args.command == "server":
        from .server import main as serve  # pygls is imported only here

        return serve()
    if args.command == "doctor":
        from .doctor.command import run  # the doctor's readers load only for this command

        return run(args)
    if args.command != "check":
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        config = load_config(_cli_options(args), args.config, args.isolated)
    except ConfigError as error:
        print(f"flake8-peft-names: {error}", file=sys.stderr)
        return USAGE_ERROR
    mode = "fix" if args.fix else "diff" if args.diff else "check"
    if args.unsafe_fixes and mode == "check":
        print("flake8-peft-names: warning: --unsafe-fixes does nothing without --fix or --diff", file=sys.stderr)
    applicable = frozenset({Applicability.SAFE, *([Applicability.UNSAFE] if args.unsafe_fixes else [])})
    job = FileJob(config, mode, applicable, args.stdin_display_name)
    paths = [p for p in _discover(args.paths or ["."], config) if p != STDIN or not _stdin_excluded(args, config)]
    results = sorted(_run(job, paths, args.jobs, _progress_wanted(args)), key=lambda r: r.path)
    return _report(results, args, mode)


# ---------------------------------------------------------------------------------------------
# Many files


def _discover(paths: Iterable[str], config: Config) -> Iterator[str]:
    for given in paths:
        if given == STDIN:
            yield STDIN
        elif os.path.isdir(given):
            ignored = git_ignored(given) if config.respect_gitignore else frozenset()
            for folder, subfolders, files in os.walk(given):
                subfolders[:] = sorted(
                    d
                    for d in subfolders
                    if not skipped_dir(folder, d)
                    and not config.is_excluded(os.path.join(folder, d))
                    and _absolute(folder, d) not in ignored
                )
                suffixes = (".py", NOTEBOOK, *(DOCS if config.include_docs else ()))
                for name in sorted(files):
                    candidate = os.path.join(folder, name)
                    if name.endswith(suffixes) and not config.is_excluded(candidate):
                        if _absolute(folder, name) not in ignored:
                            yield candidate
        elif not config.is_excluded(given):
            yield given  # a file named explicitly: checked even where a walk would not go


def _absolute(folder: str, name: str) -> str:
    return os.path.normpath(os.path.abspath(os.path.join(folder, name)))


def _stdin_excluded(args: argparse.Namespace, config: Config) -> bool:
    """flake8 applies `exclude` to stdin by its display name; so does this command."""
    return bool(args.stdin_display_name) and config.is_excluded(args.stdin_display_name)


_worker_job: Optional[FileJob] = None


def _init_worker(job: FileJob) -> None:
    global _worker_job
    _worker_job = job


def _in_worker(path: str) -> FileResult:
    assert _worker_job is not None
    return _worker_job(path)


def _run(job: FileJob, paths: list[str], jobs: Optional[int], progress: bool) -> Iterator[FileResult]:
    workers = min(jobs or os.cpu_count() or 1, len(paths))
    bar = Progress(len(paths), "files", every=50) if progress else None
    if workers <= 1 or STDIN in paths:
        yield from _counted(map(job, paths), bar)
        return
    # spawn, which every platform has: each worker imports the package afresh and unpickles the job once
    with multiprocessing.get_context("spawn").Pool(workers, _init_worker, (job,)) as pool:
        chunk = max(1, len(paths) // (workers * 16))
        yield from _counted(pool.imap_unordered(_in_worker, paths, chunksize=chunk), bar)


def _counted(results: Iterable[FileResult], bar: Optional[Progress]) -> Iterator[FileResult]:
    for result in results:
        if bar:
            bar.step()
        yield result
    if bar:
        bar.close()


def _progress_wanted(args: argparse.Namespace) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def _report(results: list[FileResult], args: argparse.Namespace, mode: str) -> int:
    errors = [r for r in results if r.error]
    for result in errors:
        print(f"{result.path}: error: {result.error}", file=sys.stderr)
    for result in results:
        if result.warning:
            print(f"{result.path}: warning: {result.warning}", file=sys.stderr)
    if mode == "diff":
        sys.stdout.buffer.write(b"".join(r.diff for r in results))
    elif mode == "fix" and any(r.fixed_source is not None for r in results):
        sys.stdout.buffer.write(next(r.fixed_source for r in results if r.fixed_source is not None))
    else:
        sys.stdout.write(FORMATS[args.output_format](results))
    remaining = sum(len(r.findings) for r in results)
    if mode != "check" or (args.output_format == "text" and remaining):
        print(summary(results, mode, args.unsafe_fixes), file=sys.stderr)
    changed = mode == "diff" and any(r.diff for r in results)
    return 1 if remaining or errors or changed else 0


def _kind(findings: list[Finding], index: int) -> Applicability:
    """How fixable a finding is: by its own fix, or at a use, by the fix at the name's definition."""
    holder = fix_holder(findings, index, definition_links(findings))
    return applicability(holder) if holder else Applicability.NONE


def summary(results: list[FileResult], mode: str, unsafe_fixes: bool) -> str:
    """What the run did, what it left, and how to get the rest (ruff's "N hidden fixes can be enabled
    with --unsafe-fixes"): never a silent no-op."""
    applied = {Applicability.SAFE, *([Applicability.UNSAFE] if unsafe_fixes else [])}
    kinds = [(_kind(r.findings, i), bool(r.diff)) for r in results for i in range(len(r.findings))]
    parts = []
    if mode == "fix":
        fixed = sum(r.fixed for r in results)
        files = sum(1 for r in results if r.fixed)
        parts.append(f"Fixed {fixed} finding(s) in {files} file(s)." if fixed else "No fixes applied.")
    if mode == "diff":
        shown = sum(1 for kind, in_diff in kinds if in_diff and kind in applied)
        files = sum(1 for r in results if r.diff)
        would = f"Would fix {shown} finding(s) in {files} file(s) (the diff above)."
        parts.append(would if files else "No diff to show.")
        kinds = [(kind, in_diff) for kind, in_diff in kinds if not (in_diff and kind in applied)]
    left = [kind for kind, _ in kinds]
    safe, unsafe = left.count(Applicability.SAFE), left.count(Applicability.UNSAFE)
    shown_only = left.count(Applicability.DISPLAY_ONLY)
    none = len(left) - safe - unsafe - shown_only
    if mode == "check":
        parts.append(f"Found {len(left)} finding(s).")
    elif left:
        parts.append(f"{len(left)} finding(s) left:")
    if safe:
        parts.append(f"{safe} fixable with --fix." if mode == "check" else f"{safe} safe fix(es) could not be applied.")
    if unsafe and mode == "check":
        parts.append(f"{unsafe} hidden unsafe fix(es) can be enabled with --fix --unsafe-fixes.")
    elif unsafe and not unsafe_fixes:
        parts.append(f"{unsafe} hidden unsafe fix(es) can be enabled with --unsafe-fixes.")
    elif unsafe:
        parts.append(f"{unsafe} unsafe fix(es) could not be applied.")
    if shown_only:
        parts.append(f"{shown_only} with a suggested fix, shown but never applied.")
    if none:
        parts.append(f"{none} without an automatic fix (see `flake8-peft-names rule CODE`).")
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# Arguments


def _rule(args: argparse.Namespace) -> int:
    if args.all:
        print("\n".join(rule_page(rule) for rule in RULES), end="")
        return 0
    if not args.code:
        print("flake8-peft-names rule: give a rule code or name, or --all", file=sys.stderr)
        return USAGE_ERROR
    rule = RULES_BY_CODE.get(args.code.upper()) or RULES_BY_NAME.get(args.code)
    if rule is None:
        print(f"flake8-peft-names rule: unknown rule {args.code!r}", file=sys.stderr)
        return USAGE_ERROR
    print(rule_page(rule), end="")
    return 0


def _cli_options(args: argparse.Namespace) -> dict[str, Optional[str]]:
    return {
        "select": args.select,
        "ignore": args.ignore,
        "extend-select": args.extend_select,
        "extend-ignore": args.extend_ignore,
        "exclude": args.exclude,
        "extend-exclude": args.extend_exclude,
        "peft-version": args.peft_version,
        "peft-methods": args.peft_methods,
        "respect-gitignore": "false" if args.no_respect_gitignore else None,
        "include-docs": "true" if args.include_docs else None,
        "cell-syntax-errors": args.cell_syntax_errors,
        "project-wide": "true" if args.project_wide else None,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flake8-peft-names", description="Find and fix adapter names and adapter state dicts PEFT mishandles."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command")
    check = commands.add_parser("check", help="report findings; --diff or --fix to fix them")
    check.add_argument("paths", nargs="*", help="files or folders (default: .); - reads stdin")
    fixing = check.add_mutually_exclusive_group()
    fixing.add_argument("--fix", action="store_true", help="apply safe fixes")
    fixing.add_argument("--diff", action="store_true", help="print a diff of the fixes; write nothing")
    check.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff, also unsafe fixes")
    for name in ("select", "ignore", "extend-select", "extend-ignore", "exclude", "extend-exclude"):
        check.add_argument(f"--{name}", metavar="LIST", help=f"as flake8's --{name}")
    add_argparse_options(check)
    check.add_argument(
        "--no-respect-gitignore",
        action="store_true",
        help="also check files .gitignore ignores (config: respect-gitignore = false)",
    )
    check.add_argument(
        "--include-docs", action="store_true", help="folder walks read Markdown and reStructuredText files too"
    )
    check.add_argument(
        "--cell-syntax-errors",
        choices=("error", "warning"),
        help="a notebook cell Python cannot parse: an error that fails the run (default) or a warning",
    )
    check.add_argument("--config", metavar="FILE", help="config file (default: flake8's search)")
    check.add_argument("--isolated", action="store_true", help="ignore config files")
    check.add_argument("--stdin-display-name", metavar="NAME", help="the name of the file read from stdin")
    check.add_argument("--output-format", choices=sorted(FORMATS), default="text")
    check.add_argument("-j", "--jobs", type=int, metavar="N", help="processes (default: all cores)")
    check.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    commands.add_parser("server", help="run the language server (LSP over stdio)")
    rule = commands.add_parser("rule", help="print a rule's documentation")
    rule.add_argument("code", nargs="?", help="PFT102 or adapter-name-inside-prefix")
    rule.add_argument("--all", action="store_true", help="every rule")
    from .doctor.command import add_arguments

    add_arguments(commands.add_parser("doctor", help="find and repair broken adapter checkpoints"))
    return parser
