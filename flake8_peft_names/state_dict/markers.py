"""Key markers: what a key test looks for (a PEFT marker or an adapter name), read statically."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional

from ..adapter_sites import adapter_name_uses
from ..module_facts import ModuleFacts, Scope
from ..peft_facts import METHODS, METHODS_BY_TYPE

# Methods whose prefix is distinctive enough to mean PEFT wherever it appears; the others (`road_`,
# `miss_`, `poly_`, `shadow_`, ...) are common words and count only in a module that names the method.
_DISTINCTIVE = frozenset(
    "LORA ADALORA IA3 LOHA LOKR OFT BOFT VERA PVERA FOURIERFT VBLORA RANDLORA DELORA GRALORA TINYLORA "
    "UNILORA SUPERTUNING TRAINABLE_TOKENS".split()
)
# Key markers of LoRA implementations that are not PEFT's (kohya, old diffusers attention processors).
_FOREIGN_LORA = ("lora_down", "lora_up", "lora_unet", "lora_te", "lora_mid", "lora_layer", "lora_linear_layer")
_FOREIGN_LORA_PATTERN = re.compile(r"lora_(?:down|up|unet|te|mid)")
EXTRA_MARKERS = frozenset({"modules_to_save", "vera_A", "vera_B"})
# A bare method prefix: filtering by it keeps the adapter's own parameters (the default adapter's fix).
PREFIX_MARKERS = frozenset(p for m in METHODS for p in (m.prefix, m.prefix.rstrip("_")))
_ADAPTER_VARIABLE = re.compile(r"(?:^|_)adapters?(?:_?names?)?$|^active_adapters?$|^adapter_id$", re.IGNORECASE)


@dataclass(frozen=True)
class Needle:
    """What a key test looks for: a PEFT marker, or an adapter name (`adapter` is its source text)."""

    marker: Optional[str] = None  # the marker text, e.g. "lora_", ".lora_A."
    adapter: Optional[str] = None  # `adapter_name`, `"sft"` (as Python source)

    @property
    def bare_prefix(self) -> bool:
        return self.adapter is None and self.marker is not None and self.marker.strip(".") in PREFIX_MARKERS

    @property
    def modules_to_save(self) -> bool:
        """Looks for the `modules_to_save` copies (maybe of one adapter): the part "lora" filters miss."""
        return "modules_to_save" in (self.marker or "")


def _accepted_prefixes(facts: ModuleFacts) -> tuple[str, ...]:
    """The method prefixes that count as PEFT markers in this module."""
    return facts.derived(_build_accepted_prefixes)


def _build_accepted_prefixes(facts: ModuleFacts) -> tuple[str, ...]:
    types = _DISTINCTIVE | facts.config_methods
    prefixes = {
        METHODS_BY_TYPE[t].prefix for t in types if t in METHODS_BY_TYPE and METHODS_BY_TYPE[t].names_reach_keys
    }
    return tuple(sorted(prefixes | {"vera_"}))


def _known_adapter_names(facts: ModuleFacts) -> frozenset[str]:
    return facts.derived(_build_known_adapter_names)


def _build_known_adapter_names(facts: ModuleFacts) -> frozenset[str]:
    return frozenset(u.value for u in adapter_name_uses(facts) if u.value)


def _is_marker_token(facts: ModuleFacts, token: str) -> bool:
    if not token or token.startswith(_FOREIGN_LORA):
        return False
    if token in EXTRA_MARKERS:
        return True
    return any(token.startswith(prefix) or token == prefix.rstrip("_") for prefix in _accepted_prefixes(facts))


def _text_needle(facts: ModuleFacts, text: str, regex: bool) -> Optional[Needle]:
    """A statically known needle: a marker, an adapter name used in the module, or neither."""
    if regex:
        for prefix in _accepted_prefixes(facts):
            bare = prefix.rstrip("_")
            if re.search(rf"(?<![A-Za-z0-9]){re.escape(bare)}", text) and not _FOREIGN_LORA_PATTERN.search(text):
                return Needle(marker=text)
        return None
    tokens = [t for t in text.split(".") if t]
    if any(_is_marker_token(facts, t) for t in tokens):
        return Needle(marker=text)
    names = _known_adapter_names(facts)
    for token in tokens:
        if token in names:
            return Needle(adapter=_quoted(token))
    return None


def _quoted(text: str) -> str:
    return f'"{text}"' if not any(c in text for c in '"\\\n') else repr(text)


def adapter_like(expr: ast.expr) -> bool:
    if isinstance(expr, ast.Name):
        return bool(_ADAPTER_VARIABLE.search(expr.id))
    if isinstance(expr, ast.Attribute):
        return bool(_ADAPTER_VARIABLE.search(expr.attr))
    return False


def needle_of(facts: ModuleFacts, expr: ast.expr, scope: Scope, regex: bool = False) -> Optional[Needle]:
    """What `expr` looks for in a key, when that is statically clear; None when it is not (never a guess)."""
    if adapter_like(expr):
        return Needle(adapter=ast.unparse(expr))
    resolved = facts.resolve(expr, scope)
    if resolved is not None:
        return _text_needle(facts, resolved.value, regex)
    parts: list[ast.expr] = []
    if isinstance(expr, ast.JoinedStr):
        if any(isinstance(p, ast.FormattedValue) and (p.conversion != -1 or p.format_spec) for p in expr.values):
            return None
        parts = [p.value if isinstance(p, ast.FormattedValue) else p for p in expr.values]
    elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        parts = [expr.left, expr.right]
    adapter = next((part for part in parts if adapter_like(part)), None)
    marker = None
    for part in parts:
        known = facts.resolve(part, scope) if part is not adapter else None
        if known is not None:
            found = _text_needle(facts, known.value, regex)
            if found is not None and found.marker is not None:
                marker = known.value
                break
    if adapter is not None:  # `f"modules_to_save.{adapter_name}"` keeps its marker too
        return Needle(marker=marker, adapter=ast.unparse(adapter))
    return Needle(marker=marker) if marker is not None else None
