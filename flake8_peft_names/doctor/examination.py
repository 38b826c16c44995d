"""What examining one checkpoint found: its problems and the key mapping that repairs what can be repaired."""

from __future__ import annotations

from dataclasses import dataclass, field

from .problems import Diagnosis
from .reading import Checkpoint


@dataclass
class Examination:
    checkpoint: Checkpoint
    diagnoses: list[Diagnosis] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # old key -> PEFT's key
    drops: set[str] = field(default_factory=set)
    # modules_to_save entries with no tensor: the copy's config leaves them out, else peft raises KeyError
    unsaved_modules: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.checkpoint.error is None and not self.diagnoses

    @property
    def repairable(self) -> bool:
        return bool(self.renames or self.drops)
