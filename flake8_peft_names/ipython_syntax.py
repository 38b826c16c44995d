"""IPython input as Python with the same line numbers: the lines IPython rewrites before running a cell
(`%magic`, `!shell` with its backslash continuations, `name?`, `x = !cmd`, `%%cell_magic`) are masked by
a `pass` and comment lines, which a fix leaves alone and `unmask` puts back as they were.

Which lines IPython rewrites is asked of IPython itself (`TransformerManager.transform_cell`, the
`notebooks` extra) when it is installed: the rewritten cell is compared line by line with the cell, and
each run of changed lines is one masked construct. IPython joins a continued shell line into one line
and a `%%magic` cell into one line, so the comparison is what keeps the count. Without IPython a regular
expression finds the common constructs. Then, as IPython's automagic (on by default) does, a line that
starts with the name of a line magic or shell alias and goes on with an argument (`pip install peft`,
`cd data`, `ls -l`) is that magic, and masked too. Autocall (`print "x"`) is off in IPython by default and
is not read here either.
"""
from __future__ import annotations

import difflib
import re
import warnings
from typing import Any, Callable, Optional

MASK = "pass  # <flake8-peft-names magic>"
MASK_COMMENT = "# <flake8-peft-names magic>"  # a construct IPython drops: no statement in its place
MASK_MORE = "# <flake8-peft-names magic+>"
# Cell magics whose body is Python that the kernel runs (as IPython input): only their first line is magic.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
CELL_MAGIC = re.compile(r"\s*%%(\w+)")
# IPython's line magics and POSIX shell aliases that automagic runs without `%`. Of the names that are
# also plain words (`time`, `run`, `load`) only a line going on with an argument is taken, which Python
# would not parse: `time.sleep(1)`, `run = 1` and `load(x)` stay Python.
AUTOMAGIC = frozenset(
    """alias alias_magic autoawait autocall automagic autosave bookmark cat cd clear colors conda config
    connect_info cp debug dhist dirs doctest_mode ed edit env gui hist history killbgscripts ldir less lf lk
    ll load load_ext loadpy logoff logon logstart logstate logstop ls lsmagic lx macro magic mamba man
    matplotlib micromamba mkdir more mv notebook page pastebin pdb pdef pdoc pfile pinfo pinfo2 pip popd
    pprint precision prun psearch psource pushd pwd pycat pylab qtconsole quickref recall rehashx reload_ext
    rep rerun reset reset_selective rm rmdir run save sc set_env store sx system tb time timeit unalias
    unload_ext who who_ls whos xdel xmode""".split()
)
AUTOMAGIC_LINE = re.compile(r"(?P<indent>[ \t]*)(?P<name>\w+)[ \t]+(?P<rest>[^\s!=()<>,+*/%^&|.\[:;#-]|-)")
MAGIC_LINE = re.compile(
    r"""^\s*(
        [%!?]                                  # %magic, !shell, ?help
      | [\w.]+\?{1,2}\s*$                      # name? and name??
      | [\w.]+(\s*,\s*[\w.]+)*\s*=\s*[%!]      # x = %magic, files = !ls
    )""",
    re.VERBOSE,
)


class Masked:
    """Lines (each ending in a newline) with IPython's constructs masked, and what each mask hides."""

    def __init__(self, lines: list[str], hidden: list[list[str]]) -> None:
        self.lines, self.hidden = lines, hidden


def mask(lines: list[str], use_ipython: bool = True) -> Optional[Masked]:
    """`lines` (each ending in a newline) as Python with the same number of lines; None when a cell magic
    makes them something other than Python (`%%bash`, `%%writefile`, `%%html`, ...)."""
    if lines:
        cell_magic = CELL_MAGIC.match(lines[0])
        if cell_magic:
            if cell_magic.group(1) not in PYTHON_CELL_MAGICS:
                return None
            body = mask(lines[1:], use_ipython)
            if body is None:
                return None
            return Masked([MASK + "\n", *body.lines], [[lines[0]], *body.hidden])
    transform = _ipython_transform() if use_ipython else None
    regions = _changed_regions(lines, transform) if transform else _regex_regions(lines)
    regions = _with_automagic(lines, regions)
    masked: list[str] = []
    hidden: list[list[str]] = []
    position = 0
    for start, end, indent in regions:
        masked.extend(lines[position:start])
        hidden.append(lines[start:end])
        first = f"{indent}{MASK}\n" if indent is not None else MASK_COMMENT + "\n"
        masked.extend([first] + [MASK_MORE + "\n"] * (end - start - 1))
        position = end
    masked.extend(lines[position:])
    return Masked(masked, hidden)


def unmask(lines: list[str], hidden: list[list[str]]) -> Optional[list[str]]:
    """The masked constructs put back into `lines` (the masked lines after a fix); None when the masks
    are no longer there as `mask` left them."""
    restored: list[str] = []
    pending = iter(hidden)
    for line in lines:
        text = line.strip()
        if text == MASK_MORE:
            continue
        if text not in (MASK, MASK_COMMENT):
            restored.append(line)
            continue
        original = next(pending, None)
        if original is None:
            return None
        restored.extend(original)
    return restored if next(pending, None) is None else None


# ---------------------------------------------------------------------------------------------
# Which lines are IPython's


def _changed_regions(lines: list[str], transform: Callable[[str], str]) -> list[tuple[int, int, Optional[str]]]:
    """Runs of lines IPython rewrites: (start, end, indent of the `pass`; None when the run has no Python
    line left in IPython's output to indent like, and only comments mask it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rewritten = transform("".join(lines)).splitlines(keepends=True)
    except Exception:  # IPython cannot read it either: the syntax error is Python's to report
        return _regex_regions(lines)
    regions: list[tuple[int, int, Optional[str]]] = []
    matcher = difflib.SequenceMatcher(None, lines, rewritten, autojunk=False)
    for tag, start, end, new_start, new_end in matcher.get_opcodes():
        if tag in ("replace", "delete") and end > start:
            new = rewritten[new_start] if new_end > new_start else None
            regions.append((start, end, None if new is None else new[: len(new) - len(new.lstrip())]))
    return regions


def _regex_regions(lines: list[str]) -> list[tuple[int, int, Optional[str]]]:
    """Without IPython: lines that start like a magic, a shell escape or a help request, with the lines
    a backslash at their end continues them onto."""
    regions: list[tuple[int, int, Optional[str]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not MAGIC_LINE.match(line):
            index += 1
            continue
        end = index + 1
        while lines[end - 1].rstrip("\r\n").endswith("\\") and end < len(lines):
            end += 1
        regions.append((index, end, line[: len(line) - len(line.lstrip())]))
        index = end
    return regions


def _with_automagic(
    lines: list[str], regions: list[tuple[int, int, Optional[str]]]
) -> list[tuple[int, int, Optional[str]]]:
    """`regions` and the lines outside them that automagic runs as a magic (`pip install peft`)."""
    taken = {index for start, end, _ in regions for index in range(start, end)}
    found = list(regions)
    for index, line in enumerate(lines):
        match = AUTOMAGIC_LINE.match(line)
        if index not in taken and match and match.group("name") in AUTOMAGIC:
            end = index + 1
            while lines[end - 1].rstrip("\r\n").endswith("\\") and end < len(lines) and end not in taken:
                end += 1
            found.append((index, end, match.group("indent")))
            taken.update(range(index, end))
    return sorted(found)


_TRANSFORM: list[Optional[Callable[[str], str]]] = []


def _ipython_transform() -> Optional[Callable[[str], str]]:
    """IPython's own reading of a cell (imported once, quietly), None when IPython is not installed."""
    if not _TRANSFORM:
        transform: Optional[Callable[[str], str]] = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from IPython.core.inputtransformer2 import TransformerManager

            manager: Any = TransformerManager()
            transform = manager.transform_cell
        except Exception:  # ImportError, or an IPython too old or broken to import
            transform = None
        _TRANSFORM.append(transform)
    return _TRANSFORM[0]
