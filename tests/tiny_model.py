"""The tiny model every runtime proof and fix script adapts: two LoRA targets (`q_proj`, `v_proj`) and a
`head` for `modules_to_save`. Needs torch only: the fix scripts import it standalone, beside harness.py."""
from __future__ import annotations

import torch
from torch import nn


class TinyModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q_proj = nn.Linear(8, 8)
        self.v_proj = nn.Linear(8, 8)
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.v_proj(torch.relu(self.q_proj(x)))))
