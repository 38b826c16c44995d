"""What the (repaired) keys must still cover: every modules_to_save module, every target module, and the
LoRA rank of the config."""

from __future__ import annotations

import re
from typing import Any

from ..peft_facts import TASKS_WITH_MODULES_TO_SAVE
from .examination import Examination
from .keys import Key, Layout
from .problems import diagnosis, sample

AUTOMATIC_HEADS = frozenset({"classifier", "score"})  # what peft adds to modules_to_save by task type


def check_coverage(exam: Examination, layout: Layout, config: dict[str, Any], final: dict[str, Key]) -> None:
    """`final`: the keys of the repaired file (by their key in the original), read against the layout."""
    _missing(exam, layout, config, final)
    _ranks(exam, config, final)


def _missing(exam: Examination, layout: Layout, config: dict[str, Any], final: dict[str, Key]) -> None:
    mts_paths = [".".join(p.path) for p in final.values() if p.kind == "modules_to_save"]
    wanted = list(layout.modules_to_save)
    if str(config.get("task_type")) in TASKS_WITH_MODULES_TO_SAVE and set(wanted) & AUTOMATIC_HEADS:
        found_heads = [h for h in AUTOMATIC_HEADS if _found(h, mts_paths)]
        wanted = [m for m in wanted if m not in AUTOMATIC_HEADS] + (
            [] if found_heads else sorted(AUTOMATIC_HEADS & set(wanted))[:1]
        )
    missing = [m for m in wanted if not _found(m, mts_paths)]
    if missing:
        exam.unsaved_modules = missing
        exam.diagnoses.append(
            diagnosis(
                "missing-modules-to-save",
                f"modules_to_save={wanted!r}, no tensor for {', '.join(missing)}",
                repair="lost: the trained weights are not in the file (the copy's config leaves "
                f"{', '.join(missing)} out of modules_to_save, so peft loads the rest; the base weights stay)",
            )
        )
    if layout.targets is None or len(layout.targets) < 2:
        return
    adapted = [".".join(p.path) for p in final.values() if p.kind == "adapter"]
    absent = [t for t in layout.targets if not _found(t, adapted)]
    if absent and len(absent) < len(layout.targets):
        exam.diagnoses.append(
            diagnosis(
                "missing-target-tensors",
                f"target_modules={list(layout.targets)!r}, no tensor for {', '.join(absent)}",
                repair="lost: the trained weights are not in the file",
            )
        )


def _found(name: str, paths: list[str]) -> bool:
    return any(p == name or p.endswith("." + name) for p in paths)


def _ranks(exam: Examination, config: dict[str, Any], final: dict[str, Key]) -> None:
    if str(config.get("peft_type", "")).upper() != "LORA" or not isinstance(config.get("r"), int):
        return
    pattern = config.get("rank_pattern") or {}
    wrong = []
    for key, p in final.items():
        axis = {"lora_A": 0, "lora_embedding_A": 0, "lora_B": 1, "lora_embedding_B": 1}.get(p.param)
        if axis is None or p.subs[:1] == ("bias",):
            continue
        shape = exam.checkpoint.tensors[key].shape
        r = _rank(".".join(p.path), config["r"], pattern if isinstance(pattern, dict) else {})
        if len(shape) > axis and shape[axis] != r:
            wrong.append(f"{key} {list(shape)} (r={r})")
    if wrong:
        exam.diagnoses.append(
            diagnosis(
                "rank-mismatch",
                f"{len(wrong)} tensor(s): {sample(wrong)}",
                tuple(w.split(" ")[0] for w in wrong),
                repair="not repaired: the config's r is wrong or the weights are another run's",
            )
        )


def _rank(module: str, r: int, pattern: dict[str, Any]) -> int:
    for key, value in pattern.items():
        try:
            if module == key or re.fullmatch(rf"(.*\.)?{key}", module):
                return int(value)
        except (re.error, TypeError, ValueError):
            continue
    return r
