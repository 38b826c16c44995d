"""Writing a repaired copy of an adapter folder: renamed keys, dropped tensors, every other file copied.

The source folder is only read. safetensors files are rewritten byte for byte (each tensor's bytes copied
from the original offsets, the header rebuilt), so no dtype is converted and neither torch nor numpy is
needed. `.bin` files are rewritten with torch. The copy is built in a temporary folder next to its
destination and renamed into place, so a destination either holds a whole repaired adapter or nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

from .examination import Examination
from .reading import BIN, CONFIG, SAFETENSORS, raw_header


class RepairError(Exception):
    """The copy could not be written; the message is one line."""


def write_repaired(exam: Examination, destination: Path) -> None:
    checkpoint = exam.checkpoint
    assert checkpoint.weights is not None
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise RepairError(f"{destination} exists; --repair never overwrites")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        for entry in sorted(checkpoint.folder.iterdir()):
            if entry.is_file() and entry.name != checkpoint.weights.name:
                shutil.copy2(entry, staging / entry.name)
        if exam.unsaved_modules:
            _write_config(checkpoint.config, staging / CONFIG, exam.unsaved_modules)
        if checkpoint.weights.name == SAFETENSORS:
            _write_safetensors(checkpoint.weights, staging / SAFETENSORS, exam)
        elif checkpoint.weights.name == BIN:
            _write_bin(checkpoint.weights, staging / BIN, exam)
        os.replace(staging, destination)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise RepairError(f"cannot write {destination}: {error.strerror or error}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_config(config: dict[str, Any], target: Path, unsaved: list[str]) -> None:
    """The config without the modules_to_save entries that have no tensor (peft raises KeyError on them)."""
    kept = [m for m in config.get("modules_to_save") or () if m not in unsaved]
    target.write_text(json.dumps({**config, "modules_to_save": kept or None}, indent=2, sort_keys=True) + "\n")


def _write_safetensors(source: Path, target: Path, exam: Examination) -> None:
    header, start = raw_header(source)
    metadata = header.pop("__metadata__", None)
    entries = sorted(
        ((exam.renames.get(k, k), v) for k, v in header.items() if k not in exam.drops),
        key=lambda item: item[0],
    )
    new_header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for key, info in entries:
        begin, end = info["data_offsets"]
        new_header[key] = {
            "dtype": info["dtype"],
            "shape": info["shape"],
            "data_offsets": [offset, offset + end - begin],
        }
        offset += end - begin
    encoded = json.dumps(new_header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # the data starts 8-byte aligned, as the safetensors library writes it
    with open(source, "rb") as src, open(target, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)) + encoded)
        for _, info in entries:
            begin, end = info["data_offsets"]
            src.seek(start + begin)
            out.write(src.read(end - begin))
        out.flush()
        os.fsync(out.fileno())


def _write_bin(source: Path, target: Path, exam: Examination) -> None:
    import torch  # the file was read with torch, so it is installed

    state = torch.load(str(source), map_location="cpu", weights_only=True)
    repaired = {exam.renames.get(k, k): v for k, v in state.items() if k not in exam.drops}
    torch.save(repaired, str(target))
