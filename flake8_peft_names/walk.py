"""`ast.walk` for the hot loops: the same nodes in the same breadth-first order, as a list built without
generators, leaving out only the nodes of fields no rule looks into (operators, expression contexts, import
aliases)."""
from __future__ import annotations

import ast

# Fields that never hold a node a rule reads: names, operators, expression contexts, import aliases.
LEAF_FIELDS = frozenset("ctx op ops id attr arg name names module level conversion kind type_comment is_async".split())
CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}  # node type -> its other fields, filled as the types are met


def child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    fields = CHILD_FIELDS.get(kind)
    if fields is None:
        fields = CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in LEAF_FIELDS)
    return fields


def walk(root: ast.AST) -> list[ast.AST]:
    found = [root]
    append, node_type, fields_of, at = found.append, ast.AST, CHILD_FIELDS, 0
    while at < len(found):  # the list is its own queue: each node's children go after everything before them
        node = found[at]
        at += 1
        kind = type(node)
        fields = fields_of.get(kind)
        if fields is None:
            fields = child_fields(kind)
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, node_type):
                        append(item)
            elif isinstance(value, node_type):
                append(value)
    return found
