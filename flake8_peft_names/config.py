"""The CLI's options: read from the same `[flake8]` config as the plugin, decided by flake8's own rules."""
from __future__ import annotations

import configparser
import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .flake8_api import EXCLUDE, Selection, comma_separated, files_to_codes, is_valid_code_prefix
from .peft_options import PEFT_METHODS, PEFT_VERSION
from .rules import RULES
from .settings import Settings, SettingsError, build_settings

CONFIG_FILES = ("setup.cfg", "tox.ini", ".flake8")  # flake8's order in each directory
CELL_SYNTAX_ERRORS = ("error", "warning")  # `cell-syntax-errors`: does a notebook cell Python cannot parse fail the run
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")  # configparser's booleans
LIST_OPTIONS = ("select", "ignore", "extend-select", "extend-ignore", "exclude", "extend-exclude")


class ConfigError(ValueError):
    """An option or config file the tool cannot use; str() names the option, the value and, for a value
    read from a config file, the file."""


def find_config_file(start: Path) -> Optional[Path]:
    """The first setup.cfg/tox.ini/.flake8 with a [flake8] section, from `start` upwards (as flake8)."""
    home = Path.home()
    for folder in (start, *start.parents):
        if folder == home:
            break
        for name in CONFIG_FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            parser = configparser.RawConfigParser()
            try:
                parser.read(candidate, encoding="utf-8")
            except (UnicodeDecodeError, configparser.Error):
                continue
            if parser.has_section("flake8"):
                return candidate
    return None


@dataclass(frozen=True)
class Config:
    settings: Settings
    root: Path  # folder the config file is in (or the working directory): relative patterns start here
    lists: dict[str, list[str]] = field(default_factory=dict)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    include_docs: bool = False  # folder walks read .md/.rst too (an explicit path is always read)
    cell_syntax_errors: str = "error"  # "warning": a notebook cell that does not parse does not fail the run
    respect_gitignore: bool = True  # `check FOLDER` skips what git ignores (discovery.py)
    project_wide: bool = False  # read the other modules of each file's project (project_index.py); opt-in for its cost
    rule_docs_url: Optional[str] = None  # the language server's link of a rule: `{code}` is the rule's code

    def engine(self, path: str) -> Selection:
        extra = [c for pattern, codes in self.per_file_ignores if self._matches(path, [pattern]) for c in codes]
        return Selection(
            select=self.lists.get("select"),
            ignore=self.lists.get("ignore"),
            extend_select=self.lists.get("extend-select") or [],
            extend_ignore=[*(self.lists.get("extend-ignore") or []), *extra],
            default_select=["PFT"],
        )

    def is_excluded(self, path: str) -> bool:
        patterns = list(self.lists.get("exclude") or EXCLUDE)
        patterns += self.lists.get("extend-exclude") or []
        return self._matches(path, patterns)

    def _matches(self, path: str, patterns: list[str]) -> bool:
        absolute = os.path.abspath(path)
        for pattern in patterns:
            full = os.path.abspath(self.root / pattern) if "/" in pattern else pattern
            if fnmatch.fnmatch(os.path.basename(path), pattern) or fnmatch.fnmatch(absolute, full):
                return True
        return False


def selected(engine: Selection, code: str) -> bool:
    return engine.selected(code)


def load_config(cli: dict[str, Optional[str]], config_file: Optional[str] = None, isolated: bool = False) -> Config:
    """Options from the command line (`cli`, raw strings) over the `[flake8]` section of the config."""
    section: dict[str, str] = {}
    where = ""  # " (in FILE)": appended to the errors of values read from the config file
    root = Path.cwd()
    path = Path(config_file) if config_file else None if isolated else find_config_file(root)
    if path is not None:
        parser = configparser.RawConfigParser()
        try:
            if not parser.read(path, encoding="utf-8"):
                raise ConfigError(f"config file {str(path)!r} cannot be read")
        except (UnicodeDecodeError, configparser.Error) as error:
            raise ConfigError(f"config file {str(path)!r} is invalid: {str(error).splitlines()[0]}") from None
        if parser.has_section("flake8"):
            section = {k.replace("_", "-"): v for k, v in parser.items("flake8")}
        root = path.resolve().parent
        where = f" (in {_shown(path)})"
    given = {k: v for k, v in cli.items() if v is not None}
    merged = {**section, **given}

    def origin(name: str) -> str:
        return "" if name in given else where

    lists = {name: comma_separated(merged[name]) for name in LIST_OPTIONS if name in merged}
    for name in ("select", "ignore", "extend-select", "extend-ignore"):
        for code in lists.get(name, []):
            problem = code_error(name, code)
            if problem:
                raise ConfigError(problem + origin(name))
    per_file_ignores = merged.get("per-file-ignores", "")
    try:
        per_file = tuple((pattern, tuple(codes)) for pattern, codes in files_to_codes(per_file_ignores))
    except ValueError as error:
        value = " ".join(per_file_ignores.split())
        raise ConfigError(f"per-file-ignores: {error}, not {value!r}{origin('per-file-ignores')}") from None
    try:
        settings = build_settings(merged.get(PEFT_VERSION.name), PEFT_METHODS.split(merged.get(PEFT_METHODS.name)))
    except SettingsError as error:
        raise ConfigError(f"{error}{origin(error.option)}") from None
    include_docs = merged.get("include-docs", "false").strip().lower()
    if include_docs not in TRUE + FALSE:
        raise ConfigError(f"include-docs: {include_docs!r} is not true or false{origin('include-docs')}")
    cell_errors = merged.get("cell-syntax-errors", "error").strip().lower()
    if cell_errors not in CELL_SYNTAX_ERRORS:
        raise ConfigError(f"cell-syntax-errors: {cell_errors!r} is not error or warning{origin('cell-syntax-errors')}")
    gitignore = merged.get("respect-gitignore", "true").strip().lower()
    if gitignore not in TRUE + FALSE:
        raise ConfigError(f"respect-gitignore: {gitignore!r} is not true or false{origin('respect-gitignore')}")
    project_wide = merged.get("project-wide", "false").strip().lower()
    if project_wide not in TRUE + FALSE:
        raise ConfigError(f"project-wide: {project_wide!r} is not true or false{origin('project-wide')}")
    docs_url = merged.get("rule-docs-url", "").strip() or None
    if docs_url is not None and "{code}" not in docs_url:
        problem = f"rule-docs-url: {docs_url!r} has no {{code}} to put the rule's code in"
        raise ConfigError(problem + origin("rule-docs-url"))
    return Config(
        settings,
        root,
        lists,
        per_file,
        include_docs in TRUE,
        cell_errors,
        gitignore in TRUE,
        project_wide in TRUE,
        docs_url,
    )


def _shown(path: Path) -> str:
    """The config file as the user knows it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


INTERNAL_ERROR_CODE = "PFT000"  # the plugin's "could not check this file": users may ignore it too


def unknown_code(option: str, code: str) -> Optional[str]:
    """The one-line error for a PFT code in a selection option that no rule has, else None."""
    if not code.startswith("PFT") or INTERNAL_ERROR_CODE.startswith(code):
        return None
    if any(r.code.startswith(code) for r in RULES):
        return None
    return f"{option}: {code!r} matches no rule of flake8-peft-names"


def code_error(option: str, code: str) -> Optional[str]:
    """The one-line error for a code flake8 (6 and later) rejects or no rule of ours has, else None."""
    if not is_valid_code_prefix(code):
        return f"{option}: {code!r} is not a valid error code prefix"
    return unknown_code(option, code)
