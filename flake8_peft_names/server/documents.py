"""Checked documents, kept by URI and re-checked only when their text or their config changed."""
from __future__ import annotations

import ast
import gc
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .analysis import Checked, EngineError, check_text, parse, physical_lines
from .configs import ConfigStore, Loaded
from .diagnostics import definition_links
from .reparse import reparse


@dataclass
class Analysis:
    """One document's check: the findings, how they link, and the fixes already computed."""

    uri: str
    key: str  # hash of the text, the path and the config file's stamp: equal keys, equal findings
    checked: Checked
    loaded: Loaded
    links: dict[int, int]
    fixes: dict[tuple, str] = field(default_factory=dict)  # (finding indices, tiers) -> fixed text

    @property
    def result_id(self) -> str:
        return self.key


def content_key(text: str, path: str, loaded: Loaded) -> str:
    digest = hashlib.blake2b(digest_size=16)
    digest.update(text.encode("utf-8", "surrogatepass"))
    digest.update(b"\0" + path.encode("utf-8", "surrogateescape"))
    digest.update(repr((loaded.file, loaded.stamp)).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class DocumentStore:
    def __init__(self, configs: ConfigStore) -> None:
        self.configs = configs
        self._by_uri: dict[str, Analysis] = {}
        self._failed: dict[str, tuple[str, str]] = {}  # uri -> (key, reason): the engine failed on that text
        # uri -> the physical lines of its last text that parsed, and their `ast`, which the engine only
        # reads: the next change is parsed from them (reparse.py); about 4.5 MB for a 2,000-line file
        self._parsed: dict[str, tuple[list[str], ast.Module]] = {}
        self.checks = 0  # how many times the engine ran: the cache's witness in tests and benchmarks
        # What the checks left (the file they read, the parse a reparse replaced), kept until `free_spent`.
        self.spent: list[object] = []
        self._collecting: Optional[bool] = None  # while the cycle collector is paused: whether it ran before

    def analyse(self, uri: str, text: str, path: Path, deferred: bool = False) -> Analysis:
        """The check of `text`, from the cache when neither the text nor the config changed.
        Raises EngineError (a bug on this document), again without running the engine for the same text.

        Python's cycle collector is paused while a document is checked: the check makes tens of thousands of
        objects (the `ast`, the facts), and each allocation burst would otherwise scan every object the server
        holds (about half of the diagnostics' time on the 2,000-line benchmark). It runs again, and what the
        check left is freed, in `free_spent`: before this returns, or with `deferred` when the caller calls
        it, once it has answered (the server: freeing the whole tree of the 2,000-line benchmark file takes
        about 5 ms)."""
        loaded = self.configs.for_folder(path.parent)
        key = content_key(text, str(path), loaded)
        cached = self._by_uri.get(uri)
        if cached is not None and cached.key == key:
            return cached
        self._by_uri.pop(uri, None)
        failed = self._failed.get(uri)
        if failed is not None and failed[0] == key:
            raise EngineError(failed[1])  # the same text fails the same way: not run again
        self.checks += 1
        if self._collecting is None:
            self._collecting = gc.isenabled()
            gc.disable()
        try:
            checked = check_text(text, str(path), loaded.config, self.spent, lambda t, f: self._parse(uri, t, f))
        except EngineError as error:
            self._failed[uri] = (key, str(error))
            self.free_spent()
            raise
        if not deferred:
            self.free_spent()
        self._failed.pop(uri, None)
        analysis = Analysis(uri, key, checked, loaded, definition_links(checked.findings))
        self._by_uri[uri] = analysis
        return analysis

    def _parse(self, uri: str, text: str, filename: str) -> ast.Module:
        """`parse`, from the document's last parse when it can (reparse.py); the tree replaced is freed with
        the spent ones."""
        lines, last = physical_lines(text), self._parsed.get(uri)
        tree = (reparse(last[0], last[1], lines) if last else None) or parse(text, filename)
        self.spent.append(self._parsed.pop(uri, None))
        self._parsed[uri] = (lines, tree)
        return tree

    def free_spent(self) -> None:
        """Free what the checks left, then let the cycle collector run again (if it ran before)."""
        self.spent.clear()
        if self._collecting is not None:
            if self._collecting:
                gc.enable()
            self._collecting = None

    def get(self, uri: str) -> Optional[Analysis]:
        return self._by_uri.get(uri)

    def forget(self, uri: str) -> None:
        self._by_uri.pop(uri, None)
        self._failed.pop(uri, None)
        self._parsed.pop(uri, None)
