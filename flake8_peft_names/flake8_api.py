"""Every flake8 internal the package uses, behind one small API that holds for flake8 5, 6 and 7.

The CLI and the codemod read options, select codes and honour `# noqa` exactly as flake8 does, with
flake8's own code. flake8 does not promise these names are stable, so no other module of the package
imports from flake8 (the plugin's class only receives flake8's objects), and tests/test_flake8_api.py
runs against the newest release of each supported major (scripts/test-flake8-majors.sh).

Differences between the majors, handled here:
- `flake8.defaults.VALID_CODE_PREFIX` exists from flake8 6.0; flake8 5 checks no code's format. The same
  pattern is used under flake8 5, so the command rejects what flake8 6 and 7 reject.
- `DecisionEngine`'s default selection is `defaults.SELECT` (E,F,W,C90) up to 6.0 and empty from 6.1;
  the engine here always names the plugin's codes as the extended default, so a PFT code's decision is
  the same under each.
"""
from __future__ import annotations

import argparse
import re
from typing import Optional, Pattern, Sequence

# flake8 ships no type information
from flake8 import defaults, utils  # type: ignore[import-untyped]
from flake8.exceptions import ExecutionError  # type: ignore[import-untyped]
from flake8.style_guide import Decision, DecisionEngine  # type: ignore[import-untyped]

# flake8 6.0's pattern (defaults.VALID_CODE_PREFIX), for flake8 5 which has none
_VALID_CODE_PREFIX_6_0 = re.compile("^[A-Z]{1,3}[0-9]{0,3}$", re.ASCII)
VALID_CODE_PREFIX: Pattern[str] = getattr(defaults, "VALID_CODE_PREFIX", _VALID_CODE_PREFIX_6_0)

NOQA_FILE: Pattern[str] = defaults.NOQA_FILE  # `# flake8: noqa` at a line's start skips the file
NOQA_INLINE: Pattern[str] = defaults.NOQA_INLINE_REGEXP  # `# noqa` and `# noqa: CODES`; group "codes"
EXCLUDE: tuple[str, ...] = tuple(defaults.EXCLUDE)  # flake8's default `exclude`


def is_valid_code_prefix(code: str) -> bool:
    """Whether flake8 (6 and later) accepts `code` in select/ignore/extend-select/extend-ignore."""
    return VALID_CODE_PREFIX.match(code) is not None


def comma_separated(value: str) -> list[str]:
    """A comma- or whitespace-separated option value as flake8 splits it (empty items dropped)."""
    return utils.parse_comma_separated_list(value)


def files_to_codes(value: str) -> list[tuple[str, list[str]]]:
    """`per-file-ignores` as flake8 reads it: (pattern, codes) pairs, in order.

    A value flake8 rejects raises ValueError whose text is the first line of flake8's message.
    """
    try:
        return [(pattern, list(codes)) for pattern, codes in utils.parse_files_to_codes_mapping(value)]
    except (ValueError, ExecutionError) as error:  # flake8 raises ExecutionError for a pattern without codes
        raise ValueError(str(error).splitlines()[0].rstrip(".")) from None


class Selection:
    """flake8's select/ignore decision (its DecisionEngine) for one set of options."""

    def __init__(
        self,
        select: Optional[Sequence[str]] = None,
        ignore: Optional[Sequence[str]] = None,
        extend_select: Sequence[str] = (),
        extend_ignore: Sequence[str] = (),
        default_select: Sequence[str] = (),
    ) -> None:
        """`None` for select/ignore means "not given" (flake8's defaults apply); `default_select` is the
        plugin's codes, selected unless `select` is given, as flake8 does for every installed plugin."""
        options = argparse.Namespace(
            select=None if select is None else list(select),
            ignore=None if ignore is None else list(ignore),
            extend_select=list(extend_select),
            extend_ignore=list(extend_ignore),
            extended_default_select=list(default_select),
            extended_default_ignore=[],
        )
        self._engine = DecisionEngine(options)

    def selected(self, code: str) -> bool:
        return self._engine.decision_for(code) is Decision.Selected
