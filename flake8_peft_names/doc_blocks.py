"""The Python code blocks of a Markdown or reStructuredText document, each line with the place it came
from, so that findings point into the document and fixed code goes back into it.

Markdown: fenced blocks (``` or ~~~, any indent) whose info string names Python (`python`, `py`,
`python3`, `py3`, `ipython`, `ipython3`) or a session (`pycon`, `python-repl`, and any Python block whose
first line is a `>>>` prompt). reStructuredText: `.. code-block::`, `.. code::` and `.. sourcecode::` with
one of those languages, `.. ipython::` (plain or with `In [1]:` prompts), `.. testcode::`, `.. doctest::`,
and doctest blocks (a paragraph of `>>>` lines). Of a session only the prompted lines are code; the rest is
output. A block marked `ipython` is read as IPython reads it (ipython_syntax).

Between `<!-- flake8-peft-names: off -->` and `<!-- flake8-peft-names: on -->` (Markdown), or
`.. flake8-peft-names: off` and `.. flake8-peft-names: on` (reStructuredText), no block is read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence

PYTHON = frozenset({"python", "py", "python3", "py3", "sage"})
IPYTHON = frozenset({"ipython", "ipython3"})
SESSION = frozenset({"pycon", "python-repl", "pyrepl"})
LANGUAGES = PYTHON | IPYTHON | SESSION

PYCON = (re.compile(r">>>(?: |$)"), re.compile(r"\.\.\.(?: |$)"))
IPYTHON_PROMPTS = (re.compile(r"In \[\d*\]: ?"), re.compile(r" *\.\.\.+: ?"))

FENCE = re.compile(r"(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\r\n]*?)[ \t]*$")
MD_SWITCH = re.compile(r"\s*<!--\s*flake8-peft-names:\s*(?P<state>off|on)\s*-->\s*$")
DIRECTIVE = re.compile(
    r"(?P<indent>[ \t]*)\.\.[ \t]+(?P<name>code-block|code|sourcecode|ipython|testcode|doctest)::[ \t]*(?P<arg>\S*)"
)
RST_SWITCH = re.compile(r"\s*\.\.\s+flake8-peft-names:\s*(?P<state>off|on)\s*$")


@dataclass
class Block:
    """A code block: its code lines (each ending in `\\n`), and for each the document line (0-based) it is
    on and the text in front of it there (indent, prompt). `session`: prompted lines amid output, so a fix
    must keep the number of lines; `ipython`: read as IPython reads it."""

    code: list[str] = field(default_factory=list)
    places: list[int] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    session: bool = False
    ipython: bool = False

    def add(self, place: int, prefix: str, code: str) -> None:
        self.places.append(place)
        self.prefixes.append(prefix)
        self.code.append(code.rstrip("\r\n") + "\n")


def strip_ending(line: str) -> str:
    return line.rstrip("\r\n")


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _language(info: str) -> str:
    """The language an info string or directive argument names: `{.python}`, `python title="x"`, `Python`."""
    word = info.strip().strip("{}").split(" ")[0].split(",")[0]
    return word.lstrip(".").lower()


def _from_lines(lines: Sequence[str], places: Sequence[int], language: str, indent: int) -> Optional[Block]:
    """A block of the content `lines` (document lines at `places`), `indent` columns of indent removed."""
    content = [(place, line) for place, line in zip(places, lines)]
    first = next((strip_ending(line)[indent:] for _, line in content if line.strip()), "")
    if language in SESSION or (language in PYTHON and PYCON[0].match(first)):
        return _session(content, indent, PYCON)
    if language in IPYTHON and IPYTHON_PROMPTS[0].match(first):
        return _session(content, indent, IPYTHON_PROMPTS, ipython=True)
    block = Block(ipython=language in IPYTHON)
    for place, line in content:
        text = strip_ending(line)
        cut = min(indent, _indent_of(text))
        block.add(place, text[:cut], text[cut:])
    return block if block.code else None


def _session(content: list[tuple[int, str]], indent: int, prompts: tuple, ipython: bool = False) -> Optional[Block]:
    block = Block(session=True, ipython=ipython)
    first, more = prompts
    in_statement = False
    for place, line in content:
        text = strip_ending(line)
        cut = min(indent, _indent_of(text))
        body = text[cut:]
        prompt = first.match(body) or (more.match(body) if in_statement else None)
        if prompt is None:
            in_statement = False  # output, or the blank line that ends an example
            continue
        in_statement = True
        block.add(place, text[: cut + prompt.end()], body[prompt.end():])
    return block if block.code else None


# ---------------------------------------------------------------------------------------------
# Markdown


def markdown_blocks(lines: Sequence[str]) -> Iterator[Block]:
    index, reading = 0, True
    while index < len(lines):
        line = strip_ending(lines[index])
        switch = MD_SWITCH.match(line)
        if switch:
            reading = switch.group("state") == "on"
        opening = FENCE.match(line)
        if not opening or (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            index += 1
            continue
        fence, indent = opening.group("fence"), len(opening.group("indent"))
        end = index + 1
        while end < len(lines) and not _closes(strip_ending(lines[end]), fence):
            end += 1
        language = _language(opening.group("info"))
        if reading and language in LANGUAGES:
            block = _from_lines(lines[index + 1 : end], range(index + 1, end), language, indent)
            if block:
                yield block
        index = end + 1


def _closes(line: str, fence: str) -> bool:
    text = line.strip()
    return len(text) >= len(fence) and set(text) == {fence[0]}


# ---------------------------------------------------------------------------------------------
# reStructuredText


def rst_blocks(lines: Sequence[str]) -> Iterator[Block]:
    index, reading, previous_blank = 0, True, True
    while index < len(lines):
        line = strip_ending(lines[index])
        switch = RST_SWITCH.match(line)
        if switch:
            reading = switch.group("state") == "on"
        directive = DIRECTIVE.match(line)
        if directive:
            end = _directive_end(lines, index, _indent_of(line))
            block = _directive_block(lines, index, end, directive) if reading else None
            if block:
                yield block
            index, previous_blank = end, False
            continue
        if previous_blank and line.lstrip().startswith(">>>"):  # a doctest block: up to the next blank line
            end = index
            while end < len(lines) and strip_ending(lines[end]).strip():
                end += 1
            block = _from_lines(lines[index:end], range(index, end), "pycon", _indent_of(line)) if reading else None
            if block:
                yield block
            index = end
            continue
        previous_blank = not line.strip()
        index += 1


def _directive_end(lines: Sequence[str], start: int, indent: int) -> int:
    """The index after the directive's last line: the content is what is indented more than it."""
    end = start + 1
    while end < len(lines):
        text = strip_ending(lines[end])
        if text.strip() and _indent_of(text) <= indent:
            break
        end += 1
    while end > start + 1 and not strip_ending(lines[end - 1]).strip():
        end -= 1
    return end


def _directive_block(lines: Sequence[str], start: int, end: int, directive: re.Match) -> Optional[Block]:
    name, argument = directive.group("name"), _language(directive.group("arg"))
    if name == "ipython":
        language = "ipython"
    elif name == "testcode":
        language = "python"
    elif name == "doctest":
        language = "pycon"
    else:
        language = argument
    if language not in LANGUAGES:
        return None
    body = start + 1
    while body < end and strip_ending(lines[body]).strip():  # options (`:linenos:`) up to a blank line
        if not strip_ending(lines[body]).lstrip().startswith(":"):
            break
        body += 1
    content = [strip_ending(line) for line in lines[body:end]]
    indents = [_indent_of(text) for text in content if text.strip()]
    if not indents:
        return None
    return _from_lines(lines[body:end], range(body, end), language, min(indents))
