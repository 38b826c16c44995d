"""PEFT version ranges: where a hazard exists, and which versions the user's code must support."""
from __future__ import annotations

import functools
import importlib.metadata
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

# Every peft release from 0.13 on, plus a stand-in for releases newer than the facts were measured on:
# a hazard still present in the newest measured release is assumed to persist.
KNOWN_RELEASES = tuple(
    Version(v)
    for v in (
        "0.13.0 0.13.1 0.13.2 0.14.0 0.15.0 0.15.1 0.15.2 0.16.0 0.17.0 0.17.1 "
        "0.18.0 0.18.1 0.19.0 0.19.1 0.20.0 0.21.0 0.21.1 0.21.2 999.0"
    ).split()
)
DEFAULT_SUPPORTED = ">=0.13"


class VersionOptionError(ValueError):
    """The `peft-version` option is not a PEP 440 specifier, matches no known release, or is 'installed'
    without peft."""


@dataclass(frozen=True)
class Affected:
    """A union of PEP 440 specifier sets: the peft versions in which a hazard happens."""

    ranges: tuple[str, ...]

    @classmethod
    def of(cls, *ranges: str) -> Affected:
        return cls(tuple(ranges))

    def hits(self, supported: frozenset[Version]) -> bool:
        """Whether any supported version lies in this range."""
        return _hits(self.ranges, supported)

    def __str__(self) -> str:
        return " or ".join(f"peft{r}" if r else "every peft" for r in self.ranges)


@functools.lru_cache(maxsize=256)
def _hits(ranges: tuple[str, ...], supported: frozenset[Version]) -> bool:
    return any(SpecifierSet(r).contains(v, prereleases=True) for r in ranges for v in supported)


def _hint(text: str) -> str:
    """`0.17` is a version, not a specifier: suggest the specifiers the user probably meant."""
    try:
        version = Version(text)
    except InvalidVersion:
        return ""
    if len(version.release) < 3:
        return f"; did you mean '=={text}.*' (every {text} release) or '>={text}'?"
    return f"; did you mean '=={text}' or '>={text}'?"


def supported_versions(option: str | None) -> frozenset[Version]:
    """The known releases inside the user's `peft-version` option."""
    text = (option or DEFAULT_SUPPORTED).strip()
    if text == "installed":
        try:
            text = "==" + importlib.metadata.version("peft")
        except importlib.metadata.PackageNotFoundError:
            raise VersionOptionError("peft-version=installed, but peft is not installed") from None
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        raise VersionOptionError(f"peft-version={text!r} is not a PEP 440 version specifier{_hint(text)}") from None
    if not all(isinstance(one, Specifier) for one in spec):  # packaging<22 also accepts legacy ones: '>=banana'
        raise VersionOptionError(f"peft-version={text!r} is not a PEP 440 version specifier")
    if text.startswith("==") and not text.startswith("===") and "," not in text and "*" not in text:
        # An exact version may be one this table does not list (say 0.16.1): keep it as it is.
        try:
            return frozenset({Version(text[2:].strip())})
        except InvalidVersion:
            raise VersionOptionError(f"peft-version={text!r} is not a PEP 440 version specifier") from None
    supported = frozenset(spec.filter(KNOWN_RELEASES, prereleases=True))
    if not supported:  # every hazard would be out of range: say so rather than report nothing
        known = f"{KNOWN_RELEASES[0]} to {KNOWN_RELEASES[-2]} and later releases"
        raise VersionOptionError(f"peft-version={text!r} matches no peft release this tool knows ({known})")
    return supported
