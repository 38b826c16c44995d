"""Which hand-filtered collections are used as checkpoints (PFT201), and how.

A collection filtered by an adapter key marker matters only when it is saved, loaded into a model, handed to a
save, appended to a list that is, or returned to callers the module does not show. Snapshots, optimizer or
gradient-clipping selections and copies put into a container from elsewhere are not; nor are pre-filters PEFT
finishes itself, or in-memory copies loaded back into the model they came from while no config sets
modules_to_save (they round-trip)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional

from ..module_facts import ModuleFacts
from .context import has_modules_to_save, refuses_modules_to_save
from .filtered import Filtered, Form
from .flows import Flows
from .models import ModelRef
from .view import StateDicts


@dataclass(frozen=True)
class CheckpointUse:
    item: Filtered
    flows: Flows  # where the collection goes
    prefilter: bool  # handed to save_pretrained(state_dict=...), which makes PEFT's format of it
    restored: bool  # only loaded back into the model it was taken from
    built: tuple[int, str]  # (scope, variable), (function, "return") or (itself, ""): the value it becomes


def checkpoint_uses(facts: ModuleFacts, sources: StateDicts) -> Iterator[CheckpointUse]:
    """The module's filtered collections with an adapter key marker that are used as checkpoints, in order."""
    for item in sorted(sources.filtered, key=lambda f: (f.node.lineno, f.node.col_offset)):
        if not item.needles:
            continue
        flows = sources.flows(item)
        callers = callers_flows(sources, flows)
        if flows.into_peft() or any(f.into_peft() for f in callers) or flows.only_counted():
            continue  # a pre-filter PEFT finishes (FSDP, ZeRO-3), or only counted or printed
        if item.form is Form.KEYS and flows.bookkeeping_only():
            continue  # key names for a check (`missing_keys.remove(key)`)
        every = [flows, *callers, *filter(None, [sources.list_flows(item)])]
        if not (any(f.checkpoint() for f in every) or (flows.returned_from and not callers)):
            continue  # never saved, loaded, handed to a save or returned to unknown callers
        restored = _restored_where_taken(item.iteration.walked.model, every)
        if restored and not has_modules_to_save(facts):
            continue  # an in-memory copy (best epoch, EMA) loaded back into its own model: it round-trips
        prefilter = flows.into_save_pretrained() or any(f.into_save_pretrained() for f in callers)
        if prefilter and (
            any(t.needle and t.needle.modules_to_save for t in item.needles) or refuses_modules_to_save(facts)
        ):
            continue  # a pre-filter finished by save_pretrained that keeps modules_to_save, or never meets them
        yield CheckpointUse(item, flows, prefilter, restored, _built(sources, item))


def callers_flows(sources: StateDicts, flows: Flows) -> list[Flows]:
    """Where the results of the helpers that return this collection go (one level)."""
    return [f for scope in flows.returned_from for f in sources.callers_flows(scope)]


def _built(sources: StateDicts, item: Filtered) -> tuple[int, str]:
    index = sources.values.index
    variable = item.target or index.bound.get(id(item.node))
    if variable is not None:
        return id(variable[1]), variable[0]
    if id(item.node) in index.returned:
        return id(index.returned[id(item.node)]), "return"
    return id(item.node), ""


def _restored_where_taken(model: Optional[ModelRef], every: list[Flows]) -> bool:
    """Every use as a checkpoint is `model.load_state_dict(copy)` into the model it was taken from: the copy's
    keys are that model's, and only what the key filter left behind (modules_to_save) is not restored."""
    uses = [f for f in every if f.checkpoint() or f.returned_from]
    return model is not None and bool(uses) and all(
        f.only_restored() and f.restored_into() == {model.text} for f in uses
    )
