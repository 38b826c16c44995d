"""`flake8-peft-names server`: a Language Server over stdio with diagnostics and quick fixes.

pygls is imported only when the server runs (the `server` extra): the flake8 plugin never imports this."""
from __future__ import annotations

import sys

MISSING = "the language server needs pygls: pip install 'flake8-peft-names[server]'"


def main() -> int:
    try:
        from .app import main as serve
    except ImportError as error:
        if error.name not in ("pygls", "lsprotocol") and not str(error.name).startswith(("pygls.", "lsprotocol.")):
            raise
        print(f"flake8-peft-names: {MISSING}", file=sys.stderr)
        return 2
    return serve()
