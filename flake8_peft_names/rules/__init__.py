"""The rule registry: every rule, in code order. Front ends, docs and tests read only this."""
from __future__ import annotations

from ..peft_facts import Hazard
from ..rule import Rule
from .adapter_names import ADAPTER_NAME_RULES
from .name_tests import NAME_TEST_RULES
from .state_dicts import STATE_DICT_RULES

RULES: tuple[Rule, ...] = ADAPTER_NAME_RULES + STATE_DICT_RULES + NAME_TEST_RULES
RULES_BY_CODE = {rule.code: rule for rule in RULES}
RULES_BY_NAME = {rule.name: rule for rule in RULES}
# The rule that owns (reports) each hazard; tests/test_rule_hazards.py checks every hazard has exactly one.
RULES_BY_HAZARD: dict[Hazard, Rule] = {hazard: rule for rule in RULES for hazard in rule.hazards}
