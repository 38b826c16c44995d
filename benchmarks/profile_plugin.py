"""Profile the flake8 plugin in-process over a corpus: where its time goes, file by file.

    python benchmarks/profile_plugin.py DIR [DIR...] [--top N] [--sort tottime|cumulative]

Each file is read and parsed as flake8 does it (outside the profile); then only the plugin runs
under cProfile, exactly as flake8 calls it: `Plugin(tree=..., lines=...).run()`. Prints the plugin's
total time against the time `ast.parse` took, the slowest files, and the top functions.
"""
from __future__ import annotations

import argparse
import ast
import cProfile
import io
import os
import pstats
import sys
import time
import tokenize

from flake8_peft_names.engine import check_tree, may_have_findings
from flake8_peft_names.module_scan import collect
from flake8_peft_names.plugin import Plugin


def python_files(folders: list[str]) -> list[str]:
    found = []
    for given in folders:
        for folder, subfolders, names in os.walk(given):
            subfolders.sort()
            found.extend(os.path.join(folder, n) for n in sorted(names) if n.endswith(".py"))
    return found


def read_lines(path: str) -> list[str]:
    """As flake8's FileProcessor reads a file: decoded with the coding cookie, lines with endings."""
    with tokenize.open(path) as stream:
        return stream.readlines()


def phases(folders: list[str]) -> None:
    """Unprofiled CPU time of each phase of the plugin, over all files: text pre-check, facts, rules."""
    parsed = []
    for path in python_files(folders):
        try:
            lines = read_lines(path)
            parsed.append((lines, ast.parse("".join(lines))))
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue
    settings = Plugin.settings
    start = time.process_time()
    passing = [(lines, tree) for lines, tree in parsed if may_have_findings("".join(lines))]
    precheck = time.process_time() - start
    start = time.process_time()
    for _, tree in passing:
        collect(tree)
    facts = time.process_time() - start
    start = time.process_time()
    for lines, tree in passing:
        check_tree(tree, lines, settings)
    checked = time.process_time() - start
    start = time.process_time()
    for lines, tree in parsed:
        list(Plugin(tree=tree, lines=lines).run())
    whole = time.process_time() - start
    print(f"unprofiled, {len(parsed)} files: plugin run() {whole:.2f} s CPU = text pre-check {precheck:.2f} s "
          f"+ on the {len(passing)} files that pass it: facts (module_scan.collect) {facts:.2f} s, "
          f"rules {checked - facts:.2f} s (check_tree {checked:.2f} s)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", choices=("tottime", "cumulative"))
    args = parser.parse_args(argv)

    phases(args.folders)
    profile = cProfile.Profile()
    parse_seconds = plugin_seconds = 0.0
    files = skipped = findings = 0
    slowest: list[tuple[float, str]] = []
    for path in python_files(args.folders):
        try:
            lines = read_lines(path)
            start = time.process_time()
            tree = ast.parse("".join(lines))
            parse_seconds += time.process_time() - start
        except (SyntaxError, ValueError, UnicodeDecodeError):
            skipped += 1
            continue
        files += 1
        start = time.process_time()
        profile.enable()
        found = list(Plugin(tree=tree, lines=lines).run())
        profile.disable()
        spent = time.process_time() - start
        plugin_seconds += spent
        findings += len(found)
        slowest.append((spent, path))

    print(f"files {files} (unparseable {skipped}), findings {findings}")
    print(f"ast.parse: {parse_seconds:.2f} s CPU; plugin (profiled, so slower than unprofiled): "
          f"{plugin_seconds:.2f} s CPU")
    print("slowest files:")
    for spent, path in sorted(slowest, reverse=True)[:10]:
        print(f"  {spent * 1000:8.1f} ms  {path}")
    stream = io.StringIO()
    pstats.Stats(profile, stream=stream).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(stream.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
