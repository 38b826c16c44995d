"""The `[flake8]` config of each folder, as the CLI finds and reads it, kept until a config file on the way
up from the folder changes (its mtime) or the client says one changed (workspace/didChangeWatchedFiles)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .analysis import CONFIG_FILES, Config, ConfigError, config_for, find_config_file

Stamp = tuple[Optional[int], ...]


@dataclass(frozen=True)
class Loaded:
    config: Config
    file: Optional[Path]  # the config file read, None when there is none
    stamp: Stamp  # mtimes of every candidate config file from the folder up to the one read
    error: Optional[str] = None  # the config file is unusable: the defaults are used and this is shown


def _stamp(folder: Path, found: Optional[Path]) -> Stamp:
    """mtime (ns) of each config file flake8 would look at before it stops, None where there is none."""
    times: list[Optional[int]] = []
    home = Path.home()
    for current in (folder, *folder.parents):
        if current == home:
            break
        for name in CONFIG_FILES:
            try:
                times.append(os.stat(current / name).st_mtime_ns)
            except OSError:
                times.append(None)
        if found is not None and current == found.parent:
            break
    return tuple(times)


class ConfigStore:
    def __init__(self) -> None:
        self._loaded: dict[Path, Loaded] = {}

    def for_folder(self, folder: Path) -> Loaded:
        cached = self._loaded.get(folder)
        if cached is not None and _stamp(folder, cached.file) == cached.stamp:
            return cached
        loaded = self._load(folder)
        self._loaded[folder] = loaded
        return loaded

    def forget(self) -> None:
        """A config file changed: read every config again when it is next needed."""
        self._loaded.clear()

    @staticmethod
    def _load(folder: Path) -> Loaded:
        found = find_config_file(folder)
        stamp = _stamp(folder, found)
        try:
            return Loaded(config_for(found), found, stamp)
        except ConfigError as error:
            return Loaded(config_for(None), found, stamp, f"{found}: {error}; using the default options")
