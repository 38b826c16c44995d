"""The floor: read and `ast.parse` every .py file under the given folders, in one process, nothing else.

    python benchmarks/parse_floor.py DIR [DIR...]

Prints `files=N unparseable=M`. Files are found as `flake8-peft-names check` finds them (os.walk, sorted).
"""
from __future__ import annotations

import ast
import os
import sys


def main(folders: list[str]) -> int:
    files = unparseable = 0
    for given in folders:
        for folder, subfolders, names in os.walk(given):
            subfolders.sort()
            for name in sorted(names):
                if not name.endswith(".py"):
                    continue
                with open(os.path.join(folder, name), "rb") as stream:
                    raw = stream.read()
                files += 1
                try:
                    ast.parse(raw)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    unparseable += 1
    print(f"files={files} unparseable={unparseable}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
