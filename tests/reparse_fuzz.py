"""Random line edits of real files, each parsed from the previous parse (server/reparse.py) and whole:
the two `ast`s must be equal, positions included, and the reparse must never answer for a text that does
not parse. Used by tests/test_server_reparse.py; over a whole corpus:

    python tests/reparse_fuzz.py FOLDER... [--edits N] [--seed N]
"""
from __future__ import annotations

import argparse
import ast
import random
import sys
import warnings
from pathlib import Path
from typing import Iterable, Optional

from flake8_peft_names.server.reparse import reparse
from flake8_peft_names.source_files import physical_lines

PIECES = ["(", ")", "[", "]", '"', "'", '"""', "\\", "#", ":", " ", "    ", "x", "@", ";", "\n", "\\\n", "pass\n"]


def full_parse(text: str) -> Optional[ast.Module]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def edited(lines: list[str], rng: random.Random) -> list[str]:
    new = list(lines)
    i, j = rng.randrange(len(new)), rng.randrange(len(new))
    kind = rng.randrange(6)
    if kind == 0:
        new[i] = new[j]
    elif kind == 1:
        new.insert(i, new[j])
    elif kind == 2:
        del new[i]
    elif kind == 3 and i + 1 < len(new):
        new[i], new[i + 1] = new[i + 1], new[i]
    else:  # one piece typed into, or a character deleted from, a line
        line, at = new[i], rng.randrange(len(new[i]) + 1)
        new[i] = line[:at] + rng.choice(PIECES) + line[at:] if rng.random() < 0.7 else line[:at] + line[at + 1 :]
    return physical_lines("".join(new))


def check_file(text: str, rng: random.Random, edits: int) -> tuple[int, int]:
    """(edits, of which reparsed); raises AssertionError on a difference."""
    lines, tree = physical_lines(text), full_parse(text)
    reparsed = 0
    if tree is None or not lines:
        return 0, 0
    for _ in range(edits):
        new = edited(lines, rng)
        if not new:
            break
        whole, fast = full_parse("".join(new)), reparse(lines, tree, new)
        if fast is not None:
            reparsed += 1
            assert whole is not None, "reparsed a text that does not parse"
            assert ast.dump(fast, include_attributes=True) == ast.dump(whole, include_attributes=True)
        if whole is not None:  # the next edit starts from this text, as the server's next change would
            lines, tree = new, fast or whole
    return edits, reparsed


def files(folders: Iterable[str]) -> list[Path]:
    return sorted(p for folder in folders for p in Path(folder).rglob("*.py"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    total = reparsed = 0
    for count, path in enumerate(files(args.folders), 1):
        if count % 500 == 0:
            print(f"{count} files, {total} edits, {reparsed} reparsed", flush=True)
        try:
            text = path.read_text("utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        try:
            done, fast = check_file(text, random.Random(f"{args.seed}:{path}"), args.edits)
        except AssertionError as error:
            print(f"{path}: {error}", file=sys.stderr)
            return 1
        total, reparsed = total + done, reparsed + fast
    print(f"{len(files(args.folders))} files, {total} edits, {reparsed} reparsed, all equal to the whole parse")
    return 0


if __name__ == "__main__":
    sys.exit(main())
