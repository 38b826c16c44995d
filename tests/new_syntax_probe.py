"""Checks sample sources with the real checker and flake8 plugin of the Python running it; prints JSON.

Run by tests/test_new_python_syntax.py in pyodide's Python 3.12, 3.13 and 3.14 (tests/pyodide_run.mjs) and
imported there by the host Python:

    python tests/new_syntax_probe.py SAMPLES.json  ->  {"version": [3, 14, 2], "results": {name: result}}

SAMPLES.json maps a file name to its source text. A result is {"error": reason} for a file that cannot be
parsed (SourceError), {"raised": traceback} if anything raised, else {"findings": [[code, line, col], ...]}
from check_tree and {"plugin": [[code, line, col], ...]} from Plugin.run(), with 0-based columns. The samples
are only parsed, never imported or run.
"""
from __future__ import annotations

import json
import sys
import traceback
from typing import Any


def probe(samples: dict[str, str]) -> dict[str, Any]:
    import os

    # The default range, as in the rest of the suite: pyodide passes no environment variables through,
    # and the repository's own requirements/ would otherwise set the plugin's range.
    os.environ["FLAKE8_PEFT_NAMES_PROJECT_RANGE"] = "off"
    from flake8_peft_names.engine import check_tree
    from flake8_peft_names.plugin import Plugin
    from flake8_peft_names.settings import build_settings
    from flake8_peft_names.source_files import SourceError, read_source

    settings = build_settings(None, None)
    results: dict[str, dict[str, Any]] = {}
    for name, text in samples.items():
        try:
            source = read_source(text.encode("utf-8"), name)
        except SourceError as error:
            results[name] = {"error": str(error)}
            continue
        try:
            findings = check_tree(source.tree, source.lines, settings)
            plugin = Plugin(tree=source.tree, lines=source.lines)  # as flake8 builds it: keywords from __init__
            reported = [[message.split()[0], line, col] for line, col, message, _ in plugin.run()]
        except Exception:  # check_tree raises CheckError chained to the original error: both tracebacks
            results[name] = {"raised": traceback.format_exc()}
            continue
        results[name] = {"findings": [[f.code, f.line, f.col] for f in findings], "plugin": reported}
    return {"version": list(sys.version_info[:3]), "results": results}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        print(json.dumps(probe(json.load(file))))
