"""Which hand-filtered collections are used as checkpoints (PFT201), and how.

A collection filtered by an adapter key marker matters only when it is saved, loaded into a model, handed to a
save, appended to a list that is, or returned to callers the module does not show. Snapshots, optimizer or
gradient-clipping selections and copies put into a container from elsewhere are not; nor are pre-filters PEFT
finishes itself, or in-memory copies loaded back into the model they came from while no config sets
modules_to_save (they round-trip)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Iterator, Optional

from ..module_facts import ForeignCall, ModuleFacts
from .context import has_modules_to_save, refuses_modules_to_save
from .filtered import Filtered, Form
from .flows import Flows
from .models import ModelRef
from .values import Via, exported_function
from .view import StateDicts, state_dicts


@dataclass(frozen=True)
class CheckpointUse:
    item: Filtered
    flows: Flows  # where the collection goes
    prefilter: bool  # handed to save_pretrained(state_dict=...), which makes PEFT's format of it
    restored: bool  # only loaded back into the model it was taken from
    built: tuple[int, str]  # (scope, variable), (function, "return") or (itself, ""): the value it becomes
    via: Optional[Via] = None  # what other modules of the project told (the project pass only)

    @property
    def context(self) -> tuple[ModuleFacts, ...]:
        """The other modules whose peft imports and configs count as this one's (as if all were one file)."""
        return self.via.modules if self.via is not None else ()


def checkpoint_uses(facts: ModuleFacts, sources: StateDicts) -> Iterator[CheckpointUse]:
    """The module's filtered collections with an adapter key marker that are used as checkpoints, in order.
    With the project pass, a helper whose result no call in the module uses is judged by the calls of it in
    the other modules of the project, as if they were in this one; where those calls make no checkpoint of
    it, it is judged as without them (the project pass adds what other modules tell, it never takes a finding
    of the module alone away)."""
    for item in sorted(sources.filtered, key=lambda f: (f.node.lineno, f.node.col_offset)):
        if not item.needles:
            continue
        flows = sources.flows(item)
        callers = callers_flows(sources, flows)
        via = item.iteration.walked.via
        context = (facts, *(via.modules if via is not None else ()))
        foreign = foreign_callers_flows(facts, flows) if not callers and flows.returned_from else []
        if foreign:
            result = _result_via(foreign, flows)
            joined = _joined(via, result) if result is not None else via
            more = _modules(foreign) if result is not None else ()
            use = _judged(sources, item, flows, [f for _, f in foreign], (*context, *more))
            if use is not None:
                yield replace(use, via=joined)
                continue
            if via is not None:
                continue  # known only through other modules, whose calls make no checkpoint of it
            # else as the module alone judges it: the project pass never takes a finding of the module away
        use = _judged(sources, item, flows, callers, context)
        if use is not None:
            yield replace(use, via=via)


def _judged(
    sources: StateDicts, item: Filtered, flows: Flows, callers: list[Flows], context: tuple[ModuleFacts, ...]
) -> Optional[CheckpointUse]:
    """The use of a filtered collection as a checkpoint, given where the results of the helpers returning it go
    (`callers`); `context`: the modules whose configs count."""
    if flows.into_peft() or any(f.into_peft() for f in callers) or flows.only_counted():
        return None  # a pre-filter PEFT finishes (FSDP, ZeRO-3), or only counted or printed
    if item.form is Form.KEYS and flows.bookkeeping_only():
        return None  # key names for a check (`missing_keys.remove(key)`)
    every = [flows, *callers, *filter(None, [sources.list_flows(item)])]
    if not (any(f.checkpoint() for f in every) or (flows.returned_from and not callers)):
        return None  # never saved, loaded, handed to a save or returned to unknown callers
    restored = _restored_where_taken(item.iteration.walked.model, every)
    if restored and not any(has_modules_to_save(m) for m in context):
        return None  # an in-memory copy (best epoch, EMA) loaded back into its own model: it round-trips
    prefilter = flows.into_save_pretrained() or any(f.into_save_pretrained() for f in callers)
    if prefilter and (
        any(t.needle and t.needle.modules_to_save for t in item.needles)
        or any(refuses_modules_to_save(m) for m in context)
    ):
        return None  # a pre-filter finished by save_pretrained that keeps modules_to_save, or never meets them
    return CheckpointUse(item, flows, prefilter, restored, _built(sources, item))


def callers_flows(sources: StateDicts, flows: Flows) -> list[Flows]:
    """Where the results of the helpers that return this collection go (one level)."""
    return [f for scope in flows.returned_from for f in sources.callers_flows(scope)]


def foreign_callers_flows(facts: ModuleFacts, flows: Flows) -> list[tuple[ForeignCall, Flows]]:
    """Where the results of the helpers that return this collection go in the other modules of the project
    that call them (one level; the project pass only)."""
    across = facts.across
    found: list[tuple[ForeignCall, Flows]] = []
    for scope in flows.returned_from if across is not None else []:
        exported = exported_function(facts, scope)
        if exported is None or across is None:
            return []  # a helper not called from elsewhere: its callers are this module's
        for call in across.calls(*exported):
            found.append((call, state_dicts(call.facts).call_flows(call.call, call.scope)))
    return found


def _result_via(foreign: list[tuple[ForeignCall, Flows]], flows: Flows) -> Optional[Via]:
    """Where in another module the result is used as a checkpoint, for the message; None when nowhere."""
    helper = getattr(flows.returned_from[0].node, "name", "the helper")
    for call, where in foreign:
        for used, slot in where.calls:
            if Flows(calls=[(used, slot)]).checkpoint():
                keyword = "state_dict=..." if getattr(slot, "name", None) == "state_dict" else ""
                to = f"{ast.unparse(used.func)}({keyword})"
                note = f"the result of {helper}() is passed to {to} in {call.shown}:{used.lineno}"
                return Via(note, _modules(foreign))
        if where.checkpoint() or where.returned_from:
            return Via(f"the result of {helper}() is used as a checkpoint in {call.where}", _modules(foreign))
    return None


def _modules(foreign: list[tuple[ForeignCall, Flows]]) -> tuple[ModuleFacts, ...]:
    return tuple({id(call.facts): call.facts for call, _ in foreign}.values())


def _joined(source: Optional[Via], result: Via) -> Via:
    if source is None:
        return result
    modules = tuple({id(m): m for m in (*source.modules, *result.modules)}.values())
    return Via(f"{source.note}; {result.note}", modules)


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
