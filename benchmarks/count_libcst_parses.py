"""Run `flake8-peft-names` counting how many times LibCST parses a module.

    python benchmarks/count_libcst_parses.py check --fix ... PATHS

Prints `libcst_parse_module_calls=N` on stderr at exit. Use it with `-j1` (one process). LibCST is
counted only once something imports it, so a run that fixes nothing never loads it, as with the
plain command.
"""
from __future__ import annotations

import atexit
import importlib.abc
import importlib.util
import sys

calls = 0


def _count(libcst) -> None:
    parse_module = libcst.parse_module

    def counted(*args, **kwargs):
        global calls
        calls += 1
        return parse_module(*args, **kwargs)

    libcst.parse_module = counted


class _WhenImported(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "libcst":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            _count(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _WhenImported())
atexit.register(lambda: print(f"libcst_parse_module_calls={calls}", file=sys.stderr))

if __name__ == "__main__":
    from flake8_peft_names.cli import main

    raise SystemExit(main(sys.argv[1:]))
