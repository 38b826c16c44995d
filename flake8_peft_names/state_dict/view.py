"""The final view the rules read: values classified knowing the module's filtered collections."""

from __future__ import annotations

import ast
from functools import cached_property
from typing import Optional

from ..module_facts import ModuleFacts, Scope
from .adapter_files import adapter_file
from .filtered import Filtered, FilteredCollections, filtered_collections
from .flows import Flows, FlowTracer
from .values import RawValues, Value


class Values(RawValues):
    """Phase 3: a filtered collection (a comprehension, `dict(filter(...))`, a dict a loop fills) is MANUAL or
    GRAD; everything else is classified as in phase 1."""

    def __init__(self, facts: ModuleFacts, collections: FilteredCollections) -> None:
        super().__init__(facts)
        self.collections = collections

    def _classify(self, expr: ast.expr, scope: Scope, depth: int) -> Optional[Value]:
        if isinstance(expr, (ast.DictComp, ast.Call)):
            filtered = self.collections.by_node.get(id(expr))
            if filtered is not None:
                return filtered.value
        if isinstance(expr, ast.Name):
            deleted = self.collections.by_deleted.get((id(scope), expr.id))
            if deleted is not None and deleted.deleting is not None:
                loop = deleted.deleting
                if (expr.lineno, expr.col_offset) > (loop.end_lineno or 0, loop.end_col_offset or 0):
                    return deleted.value  # read after the loop that left only the adapter's entries
        return super()._classify(expr, scope, depth)

    def _filled(self, name: str, scope: Scope) -> Optional[Value]:
        filled = self.collections.by_loop_target.get((id(scope), name))
        return filled.value if filled is not None else None


class StateDicts:
    """What the state-dict rules read of one module (one per module: `state_dicts(facts)`). Each phase is
    built when first asked for: checking a path (`adapter_file`) needs none."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    @cached_property
    def filtered(self) -> list[Filtered]:
        return list(filtered_collections(self.facts).by_node.values())

    @cached_property
    def values(self) -> Values:
        return Values(self.facts, filtered_collections(self.facts))

    @cached_property
    def _tracer(self) -> FlowTracer:
        return FlowTracer(self.values)

    def classify(self, expr: ast.expr, scope: Scope) -> Optional[Value]:
        return self.values.classify(expr, scope)

    def adapter_file(self, path: ast.expr, scope: Scope) -> Optional[str]:
        return adapter_file(self.facts, path, scope)

    def flows(self, item: Filtered) -> Flows:
        """Where a filtered collection goes (for a loop, the dict it fills)."""
        return self._tracer.flows(item.node, item.scope, item.target)

    def list_flows(self, item: Filtered) -> Optional[Flows]:
        """Where the list goes that the collection is appended to (`snapshots.append({...})`), if it is."""
        consumer = self.values.index.consumer_of.get(id(item.node))
        if consumer is None:
            return None
        func = consumer.call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name)):
            return None
        return self._tracer.flows(consumer.call, consumer.scope, (func.value.id, consumer.scope))

    def callers_flows(self, function_scope: Scope) -> list[Flows]:
        return self._tracer.callers_flows(function_scope)

    def call_flows(self, call: ast.Call, scope: Scope) -> Flows:
        """Where the result of a call goes (a call of another module's helper, for the project pass)."""
        return self._tracer.flows(call, scope)


def state_dicts(facts: ModuleFacts) -> StateDicts:
    return facts.derived(StateDicts)
