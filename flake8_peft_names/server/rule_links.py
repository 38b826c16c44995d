"""Where a diagnostic's rule code links to (`codeDescription.href`): the `rule-docs-url` of the `[flake8]`
config with `{code}` filled in, else the rule's page as docs/rules/CODE.md has it, rendered from the rule's
definition into the user's cache folder and linked as a file:// URI. No link when that folder cannot be
written: a dead link is worse than none."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Optional

from .analysis import VERSION, rule_pages

CACHE_NAME = "flake8-peft-names"


def cache_home() -> Path:
    """$XDG_CACHE_HOME when it is an absolute path (the XDG rule), else ~/.cache."""
    given = os.environ.get("XDG_CACHE_HOME", "")
    return Path(given) if os.path.isabs(given) else Path.home() / ".cache"


class RuleLinks:
    """The rule pages of this version, written once each (when missing) into `<cache>/flake8-peft-names/`."""

    def __init__(self, home: Optional[Path] = None) -> None:
        self._home = home
        self._pages: Optional[dict[str, str]] = None
        self._hrefs: dict[str, Optional[str]] = {}  # code -> its page's URI, None: it cannot be written

    def href(self, code: str, template: Optional[str] = None) -> Optional[str]:
        if template is not None:
            return template.replace("{code}", code)
        if code not in self._hrefs:
            self._hrefs[code] = self._write(code)
        return self._hrefs[code]

    def folder(self) -> Path:
        """One folder per version and page text (a development checkout changes the text, not the version)."""
        pages = self._all_pages()
        digest = hashlib.sha256("\0".join(pages[c] for c in sorted(pages)).encode("utf-8")).hexdigest()[:12]
        return (self._home or cache_home()) / CACHE_NAME / f"rules-{VERSION}-{digest}"

    def _all_pages(self) -> dict[str, str]:
        if self._pages is None:
            self._pages = rule_pages()
        return self._pages

    def _write(self, code: str) -> Optional[str]:
        page = self._all_pages().get(code)
        if page is None:
            return None
        path = self.folder() / f"{code}.md"
        try:
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(path, page.encode("utf-8"))
        except OSError:
            return None
        return path.as_uri()


def _write_atomically(path: Path, data: bytes) -> None:
    """A reader sees the whole page or none: written beside it, then renamed over it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
