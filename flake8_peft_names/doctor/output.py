"""The doctor's report in the `check` command's formats: text (one line per problem), json, sarif."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence
from urllib.parse import quote

from .. import __version__
from .examination import Examination
from .problems import PROBLEMS

TOOL = "flake8-peft-names"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@dataclass
class Outcome:
    """One adapter folder (or an unreadable path): what was found and what --repair did."""

    path: str
    exam: Optional[Examination] = None
    error: Optional[str] = None
    repaired_to: Optional[str] = None
    repair_error: Optional[str] = None
    notes: list[str] = field(default_factory=list)


def format_text(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for outcome in outcomes:
        if outcome.error:
            lines.append(f"{outcome.path}: error: {outcome.error}")
        for d in outcome.exam.diagnoses if outcome.exam else ():
            lines.append(f"{outcome.path}: {d.problem.code} {d.problem.slug}: {d.detail}")
            lines.append(f"    cause ({d.problem.versions}): {d.problem.cause}")
            lines.append(f"    loading it today: {d.problem.loading}")
            if d.repair:
                lines.append(f"    --repair: {d.repair}")
        if outcome.repaired_to:
            lines.append(f"{outcome.path}: repaired copy written to {outcome.repaired_to}")
        if outcome.repair_error:
            lines.append(f"{outcome.path}: error: {outcome.repair_error}")
        lines.extend(f"{outcome.path}: {note}" for note in outcome.notes)
    return printable("".join(line + "\n" for line in lines))


def printable(text: str) -> str:
    """Paths that are no UTF-8 (`os.fsdecode` keeps their bytes as lone surrogates) shown as `\\udcff`."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _record(outcome: Outcome) -> dict:
    exam = outcome.exam
    return {
        "path": outcome.path,
        "error": outcome.error,
        "healthy": bool(exam and exam.healthy and not outcome.error),
        "problems": [
            {
                "code": d.problem.code,
                "name": d.problem.slug,
                "message": d.detail,
                "cause": d.problem.cause,
                "peft_versions": d.problem.versions,
                "loading": d.problem.loading,
                "keys": list(d.keys),
                "repair": d.repair,
                "repairable": d.repairable,
            }
            for d in (exam.diagnoses if exam else ())
        ],
        "renames": dict(sorted(exam.renames.items())) if exam else {},
        "drops": sorted(exam.drops) if exam else [],
        "repaired_to": outcome.repaired_to,
        "repair_error": outcome.repair_error,
        "notes": outcome.notes,
    }


def format_json(outcomes: Sequence[Outcome]) -> str:
    return json.dumps([_record(o) for o in outcomes], indent=2) + "\n"


def _uri(path: str) -> str:
    """A URI reference: absolute paths as file URIs, relative ones percent-encoded (bytes kept as bytes)."""
    p = Path(path)
    return p.as_uri() if p.is_absolute() else quote(p.as_posix(), safe="/", errors="surrogateescape")


def format_sarif(outcomes: Sequence[Outcome]) -> str:
    problems = sorted(PROBLEMS.values(), key=lambda p: p.code)
    index = {p.slug: i for i, p in enumerate(problems)}
    results: list[dict[str, Any]] = []
    for outcome in outcomes:
        location = [{"physicalLocation": {"artifactLocation": {"uri": _uri(outcome.path)}}}]
        if outcome.error:
            results.append(
                {"ruleId": "PFD001", "level": "error", "message": {"text": outcome.error}, "locations": location}
            )
        for d in outcome.exam.diagnoses if outcome.exam else ():
            results.append(
                {
                    "ruleId": d.problem.code,
                    "ruleIndex": index[d.problem.slug],
                    "level": "error",
                    "message": {"text": f"{d.detail} (cause, {d.problem.versions}: {d.problem.cause})"},
                    "locations": location,
                }
            )
    rules = [
        {
            "id": p.code,
            "name": p.slug,
            "shortDescription": {"text": p.title},
            "fullDescription": {"text": f"{p.cause} ({p.versions}). Loading it: {p.loading}."},
        }
        for p in problems
    ]
    rules.append({"id": "PFD001", "name": "unreadable", "shortDescription": {"text": "the path cannot be read"}})
    driver = {"name": f"{TOOL} doctor", "version": __version__, "rules": rules}
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(log, indent=2) + "\n"


FORMATS: dict[str, Callable[[Sequence[Outcome]], str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
}
