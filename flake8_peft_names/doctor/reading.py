"""Finding adapter folders and reading what they hold (config, tensor names, shapes, dtypes), without
running or importing anything of the user's and without torch for safetensors files.

safetensors files are read with the `safetensors` library (`safe_open(..., framework="numpy")`): it maps
the file, validates the header strictly (size limit, UTF-8, JSON, dtypes, offsets covering the file exactly)
and loads no tensor until asked. `.bin` files are pickles: they are read only with
`torch.load(weights_only=True)`, and only when torch is installed.
"""

from __future__ import annotations

import json
import os
import struct
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

CONFIG = "adapter_config.json"
SAFETENSORS = "adapter_model.safetensors"
BIN = "adapter_model.bin"
WEIGHTS = (SAFETENSORS, BIN)
MAX_CONFIG_BYTES = 10_000_000  # an adapter config is a few kB


class ReadError(Exception):
    """A path that cannot be read; the message is one line meant for the user."""


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]


@dataclass
class Checkpoint:
    """One adapter folder. `error` is set when the config or the weights could not be read."""

    folder: Path
    config: dict[str, Any] = field(default_factory=dict)
    weights: Optional[Path] = None
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None

    @property
    def shown(self) -> str:
        return str(self.weights or self.folder / CONFIG)


def one_line(error: BaseException) -> str:
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(str(text).split())


def is_adapter_folder(folder: Path) -> bool:
    return (folder / CONFIG).is_file()


def adapter_folders(root: Path, on_error: Callable[[Path, str], None]) -> Iterator[Path]:
    """`root` itself when it is an adapter folder, else every adapter folder below it (sorted, symlinked
    folders followed once: a symlink loop or a folder reached twice is skipped)."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            stat = folder.stat()
        except OSError as error:
            on_error(folder, f"cannot read: {one_line(error)}")
            continue
        if (stat.st_dev, stat.st_ino) in seen:
            continue
        seen.add((stat.st_dev, stat.st_ino))
        if is_adapter_folder(folder):
            yield folder
        try:
            children = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as error:
            on_error(folder, f"cannot list: {one_line(error)}")
            continue
        for entry in children:
            try:
                if entry.is_dir():  # follows symlinks; `seen` stops loops
                    stack.append(Path(entry.path))
            except OSError as error:  # a symlink loop: ELOOP
                if entry.name not in (CONFIG, *WEIGHTS):  # those are reported when the adapter is read
                    on_error(Path(entry.path), f"cannot read: {one_line(error)}")


def read_checkpoint(folder: Path) -> Checkpoint:
    checkpoint = Checkpoint(folder)
    try:
        checkpoint.config = read_config(folder / CONFIG)
        checkpoint.weights = next((folder / n for n in WEIGHTS if os.path.lexists(folder / n)), None)
        if checkpoint.weights is None:
            raise ReadError(f"no {SAFETENSORS} or {BIN} next to {CONFIG}")
        if checkpoint.weights.name == SAFETENSORS:
            checkpoint.tensors, checkpoint.metadata = read_safetensors(checkpoint.weights)
        else:
            checkpoint.tensors = read_bin(checkpoint.weights)
    except ReadError as error:
        checkpoint.error = str(error)
    return checkpoint


def read_config(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ReadError(f"cannot read {path.name}: {one_line(error)}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ReadError(f"{path.name} is larger than {MAX_CONFIG_BYTES} bytes: not an adapter config")
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ReadError(f"{path.name} is not valid JSON: {one_line(error)}") from None
    if not isinstance(config, dict):
        raise ReadError(f"{path.name} holds no JSON object")
    return config


def read_safetensors(path: Path) -> tuple[dict[str, TensorInfo], dict[str, str]]:
    try:
        from safetensors import safe_open
    except ImportError:
        raise ReadError(
            "cannot read safetensors files: install the doctor extra (pip install 'flake8-peft-names[doctor]')"
        ) from None
    try:
        path.stat()  # safetensors reports a symlink loop as a missing file
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            tensors = {}
            for key in handle.keys():
                view = handle.get_slice(key)
                tensors[key] = TensorInfo(str(view.get_dtype()), tuple(view.get_shape()))
    except OSError as error:
        raise ReadError(f"cannot read {path.name}: {one_line(error)}") from None
    except Exception as error:  # SafetensorError and the like: a malformed file
        raise ReadError(f"{path.name} is not a valid safetensors file: {one_line(error)}") from None
    return tensors, dict(metadata)


def raw_header(path: Path) -> tuple[dict[str, Any], int]:
    """The header and where the data starts, for byte-exact copies of files `read_safetensors` accepted."""
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    return header, 8 + length


def read_bin(path: Path) -> dict[str, TensorInfo]:
    try:
        import torch
    except ImportError:
        raise ReadError(f"{path.name} is a pickle; reading it needs torch (torch.load(weights_only=True))") from None
    try:
        with warnings.catch_warnings():  # torch's warnings about pickle protocols: the refusal says enough
            warnings.simplefilter("ignore")
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as error:  # anything torch.load refuses: truncated, not a zip, unsafe globals
        raise ReadError(f"{path.name} cannot be loaded with torch.load(weights_only=True): {one_line(error)}") from None
    if not isinstance(state, dict):
        raise ReadError(f"{path.name} holds a {type(state).__name__}, not a dict of tensors")
    tensors = {}
    for key, value in state.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise ReadError(f"{path.name} holds {type(value).__name__} under {key!r}, not only named tensors")
        tensors[key] = TensorInfo(str(value.dtype).replace("torch.", ""), tuple(value.shape))
    return tensors
