"""What a module's text says before anything parses it (project_index.py reads these first): the names it
may define, whether it may call an API that takes adapter names, what its import statements may name, and
what it may set. Regex passes, each a superset of what the `ast` would say, so that a module they rule out
need not be parsed.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import NamedTuple

from .adapter_sites import API_WORDS


@dataclass(frozen=True)
class Words:
    """What a quick pass over a module's text says (supersets: only the modules they name are read further):
    the names after `def`, whether it names an API that takes adapter names (adapter_sites.API_WORDS: it may
    call one), and what its import statements may name: each that starts a line or follows `;` or `:`."""

    defs: frozenset[str]
    api: bool
    imports: tuple[TextImport, ...]


@dataclass(frozen=True)
class Assignments:
    """What a regex pass over a module's text says it may set, read only for the modules a checked file takes a
    value from: the names assigned at the start of a line, the attributes it may set (`name = ` or `name: T`
    at the start of an indented line, `self.name = `, an argparse option `--name`, `dest="name"`), and those
    it may set to a string (a literal or an upper-case constant, `field(default="...")`, an argparse option).
    Supersets: an attribute no imported module may set to a string has no known value."""

    top: frozenset[str]
    sets: frozenset[str]
    strings: frozenset[str]


class TextImport(NamedTuple):
    """One import statement as its text reads: `from ..a.b import c as d, e` is (2, ("a", "b"), ("c", "e"),
    ("d", "e")); `import a.b` is (0, ("a", "b"), (), ("a",)), `import a.b as c` (0, ("a", "b"), (), ("c",))."""

    level: int
    parts: tuple[str, ...]
    names: tuple[str, ...]
    bound: tuple[str, ...]  # the names it binds, `as` names for those that have one (`import a.b`: a)
    star: bool = False


_DEF = re.compile(rb"def\s+(\w+)\s*\(")
# A quick test first: every word of API_WORDS holds one of these
_API_PARTS = (b"adapter", b"peft", b"Peft", b"lora")
_API = re.compile(rb"\b(?:" + "|".join(sorted(API_WORDS)).encode() + rb")\b")
# `import` is searched for as a plain word (fast); then the text before it on its line, and after it
_IMPORT = re.compile(rb"import")
_WORD_PART = re.compile(rb"[\w.]")
_BEFORE_IMPORT = re.compile(rb"(?:.*[;:])?[ \t]*(?:from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+)?")
_AFTER_IMPORT = re.compile(rb"[ \t]+(\([^)]*\)|(?:\\\n|[^\n;#])*)")
_TOP = re.compile(rb"(?m)^(\w+)\s*(?::[^=\n]*)?=")
# What may set an attribute (each its own pattern: one alternation of them all is several times slower), and,
# right after an indented `name =` or `name: T =` or `self.name =`, what sets it to a string (a literal or an
# upper-case constant).
_INDENTED = re.compile(rb"(?m)^[ \t]+(\w+)\s*[:=]")
_SELF = re.compile(rb"self\.(\w+)\s*=")
_OPTION = re.compile(rb"--([A-Za-z][\w-]*)|dest\s*=\s*['\"](\w+)['\"]")
_STRING_VALUE = re.compile(rb"(?::[^=\n]*)?=\s*(?:field\(\s*default\s*=\s*)?(?:[rRbBuUfF]{0,2}['\"]|[A-Z][A-Z0-9_]*\b)")
# Where a `def`, a `class` or a decorator starts a line, with its indentation (function_words)
_BLOCK = re.compile(r"(?m)^([ \t]*)(?:(?:async[ \t]+)?def[ \t]+(\w+)\s*\(|class\b|@)")
_WORD = re.compile(r"[^\W\d]\w*")
NO_WORDS = Words(frozenset(), False, ())
NO_ASSIGNMENTS = Assignments(frozenset(), frozenset(), frozenset())


def _names(pattern: re.Pattern[bytes], text: bytes) -> frozenset[str]:
    groups = [g for m in pattern.findall(text) for g in ((m,) if isinstance(m, bytes) else m) if g]
    return frozenset(g.decode("latin-1").replace("-", "_") for g in groups)


def words_of(text: bytes) -> Words:
    api = any(part in text for part in _API_PARTS) and _API.search(text) is not None
    return Words(_names(_DEF, text), api, _text_imports(text))


def function_words(text: bytes) -> dict[str, frozenset[str]]:
    """The words the text of each function the module may define holds (of all the functions of one name): from
    its `def` to the next `def`, `class` or decorator that starts a line no deeper indented, passing over one
    that a triple-quoted string opened in the function would hold (an odd number of either quote in between).
    A superset of the names the function's `ast` reads: its calls are written in it."""
    decoded = text.decode("latin-1")
    starts = [(m.start(), len(m.group(1)), m.group(2)) for m in _BLOCK.finditer(decoded)]
    quotes = {q: [m.start() for m in re.finditer(q, decoded)] for q in ('"""', "\'\'\'")}
    found: dict[str, set[str]] = {}
    for i, (start, indent, name) in enumerate(starts):
        if name is None:
            continue
        end = len(decoded)
        for later, later_indent, _ in starts[i + 1:]:
            if later_indent <= indent and not any(_odd(q, start, later) for q in quotes.values()):
                end = later
                break
        found.setdefault(name, set()).update(_WORD.findall(decoded, start, end))
    return {name: frozenset(words) for name, words in found.items()}


def _odd(positions: list[int], start: int, end: int) -> bool:
    return (bisect.bisect_left(positions, end) - bisect.bisect_left(positions, start)) % 2 == 1


def assignments_of(text: bytes) -> Assignments:
    sets: set[bytes] = set()
    strings: set[bytes] = set()
    for pattern in (_INDENTED, _SELF):
        for match in pattern.finditer(text):
            sets.add(match.group(1))
            if _STRING_VALUE.match(text, match.end() - 1):
                strings.add(match.group(1))
    options = _names(_OPTION, text)
    return Assignments(_names(_TOP, text), _decoded(sets) | options, _decoded(strings) | options)


def _decoded(names: set[bytes]) -> frozenset[str]:
    return frozenset(n.decode("latin-1") for n in names)


def _text_imports(text: bytes) -> tuple[TextImport, ...]:
    found: list[TextImport] = []
    for match in _IMPORT.finditer(text):
        start, end = match.span()
        if _WORD_PART.match(text, end) or (start and _WORD_PART.match(text, start - 1)):
            continue  # a longer word: `importlib`, `reimport`
        before = _BEFORE_IMPORT.fullmatch(text, text.rfind(b"\n", 0, start) + 1, start)
        after = _AFTER_IMPORT.match(text, end)
        if before is None or after is None:
            continue
        dots, module = before.groups()
        names, bound = _imported_names(after.group(1))
        if dots is None:  # `import a.b, c`, `import a.b as d`
            pairs = zip(names, bound)
            found += [TextImport(0, tuple(n.split(".")), (), (b if b != n else n.split(".")[0],)) for n, b in pairs]
        else:
            parts = tuple(module.decode("latin-1").split(".")) if module else ()
            star = after.group(1).strip().startswith(b"*")
            found.append(TextImport(len(dots), parts, names, bound, star))
    return tuple(dict.fromkeys(found))


def _imported_names(text: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`(a, b as c)` -> ("a", "b"), ("a", "c"); `a.b as c, d` -> ("a.b", "d"), ("c", "d")."""
    items = (item.split() for item in text.decode("latin-1").strip("()\\ \t\n").split(","))
    pairs = [
        (words[0], words[2] if len(words) == 3 and words[1] == "as" else words[0])
        for words in items
        if words and all(p.isidentifier() for p in words[0].split("."))
    ]
    return tuple(n for n, _ in pairs), tuple(b for _, b in pairs)
