"""Examining one read checkpoint: the problems it has, and the key mapping that repairs what can be repaired."""

from __future__ import annotations

from typing import Any, Optional

from .coverage import check_coverage
from .examination import Examination
from .keys import SUBS, Key, Layout, method_of, name_candidates, other_method, parse, unmangled, well_formed
from .problems import AMBIGUOUS, diagnosis, sample
from .reading import Checkpoint

# Methods whose own save_pretrained keeps the adapter name in every key (`shadow_down.default.weight`,
# measured with peft 0.21.2): their keys are not checked.
NAMES_IN_SAVED_KEYS = frozenset({"SHADOW"})


def examine(checkpoint: Checkpoint, adapter: Optional[str] = None) -> Examination:
    """`adapter`: the adapter the file belongs to, when the keys hold several names (hand-written dicts)."""
    exam = Examination(checkpoint)
    if checkpoint.error is not None:
        return exam
    config, tensors = checkpoint.config, checkpoint.tensors
    method = method_of(config)
    if method is None:
        exam.diagnoses.append(diagnosis("config-mismatch", f"unknown peft_type {config.get('peft_type')!r}"))
        return exam
    if not tensors:
        exam.diagnoses.append(
            diagnosis(
                "empty-checkpoint",
                f"{checkpoint.weights.name if checkpoint.weights else 'the file'} holds 0 tensors",
                repair="lost",
            )
        )
        return exam
    if method.prompt_learning or not method.param_names or method.peft_type in NAMES_IN_SAVED_KEYS:
        return exam  # prompt embeddings: the adapter name never reaches a key; Shadow: it always does
    layout = Layout.of(method, config)
    parsed = {k: parse(k, layout) for k in tensors}
    good = {
        k: p
        for k, p in parsed.items()
        if p is not None and p.kind != "original" and p.baked is None and well_formed(p, layout)
    }
    baked = {k: p for k, p in parsed.items() if p is not None and p.baked is not None}
    originals = {k for k, p in parsed.items() if p is not None and p.kind == "original"}
    copies = {k: p for k, p in parsed.items() if p is not None and p.kind == "wrapper_copy"}
    good = {k: p for k, p in good.items() if k not in copies}
    suspicious = sorted(
        k for k in tensors if k not in good and k not in baked and k not in originals and k not in copies
    )
    hint = checkpoint.folder.name
    _unmangle(exam, layout, suspicious, good, hint)
    for old, new in list(exam.renames.items()):
        restored = parse(new, layout)
        if restored is not None and restored.baked is not None:  # another adapter's key, cut as well
            baked[old] = restored
            del exam.renames[old]
    _baked(exam, baked, bool(good) or bool(exam.renames), adapter, hint)
    _wrapper_copies(exam, copies, set(tensors))
    if originals:
        exam.drops |= originals
        exam.diagnoses.append(
            diagnosis(
                "other-adapters-tensors",
                f"{len(originals)} tensor(s) of the base model's original modules_to_save modules",
                tuple(originals),
                repair="dropped",
                repairable=True,
            )
        )
    _refuse_collisions(exam, tensors)
    final = _final_keys(exam, tensors, parsed, layout)
    check_coverage(exam, layout, config, final)
    return exam


def _unmangle(exam: Examination, layout: Layout, suspicious: list[str], good: dict[str, Key], hint: str) -> None:
    if not suspicious:
        return
    explained: dict[str, dict[str, str]] = {}
    ambiguous: list[str] = []
    for name in name_candidates(layout, hint):
        if name not in SUBS and any("." + name in k for k in good):
            continue  # a save that cut `.name` would have cut it from these keys too (not so for the
            # trailing `.weight` / `.bias` every peft strips from modules_to_save keys of such an adapter)
        mapping, several = {}, False
        for key in suspicious:
            found = unmangled(key, name, layout)
            if not found:
                break
            several = several or len(found) > 1
            mapping[key] = found[0]
        else:
            if several:
                ambiguous.append(name)
                continue
            targets = set(mapping.values())
            if len(targets) == len(mapping) and not targets & set(good):
                explained[name] = mapping
    corroborated = {n: m for n, m in explained.items() if _corroborated(m, good, layout)}
    if corroborated:  # module paths the intact keys of the same file show exist beat guessed ones
        explained = corroborated
    mappings = {tuple(sorted(m.items())) for m in explained.values()}
    if hint in explained:
        mappings = {tuple(sorted(explained[hint].items()))}
    elif ambiguous and mappings and not corroborated:  # another name fits in several ways: one fit proves nothing
        mappings.add(())
    if len(mappings) == 1:
        mapping = dict(next(iter(mappings)))
        names = sorted(n for n, m in explained.items() if m == mapping)
        name = hint if hint in names else names[0]
        exam.renames.update(mapping)
        exam.diagnoses.append(
            diagnosis(
                "mangled-keys",
                f"{len(mapping)} key(s) lost `.{name}` (adapter {name!r}): {sample(mapping)}",
                tuple(mapping),
                repair="renamed back to PEFT's keys",
                repairable=True,
            )
        )
        return
    if len(mappings) > 1 or ambiguous:
        names = sorted({*explained, *ambiguous})
        exam.diagnoses.append(
            diagnosis(
                "mangled-keys",
                f"{len(suspicious)} key(s) lost a cut-out adapter name ({', '.join(repr(n) for n in names[:4])}), "
                f"but it could have been cut from more than one place: {sample(suspicious)}",
                tuple(suspicious),
                repair=AMBIGUOUS,
            )
        )
        return
    _unexplained(exam, layout, suspicious)


def _corroborated(mapping: dict[str, str], good: dict[str, Key], layout: Layout) -> bool:
    """Every restored adapter key sits in a module whose parent path an intact key of the file has."""
    parents = {p.path[:-1] for p in good.values() if p.kind == "adapter"}
    restored = [parse(k, layout) for k in mapping.values()]
    adapters = [p for p in restored if p is not None and p.kind == "adapter"]
    return bool(parents) and bool(adapters) and all(p.path[:-1] in parents for p in adapters)


def _unexplained(exam: Examination, layout: Layout, keys: list[str]) -> None:
    wrong, untargeted, other = [], [], []
    for key in keys:
        comps = key.split(".")
        foreign = next((m for c in comps if (m := other_method(c, layout.method)) is not None), None)
        parsed = parse(key, layout)
        if foreign is not None:
            wrong.append((key, foreign.display))
        elif parsed is not None and parsed.kind == "adapter" and not layout.is_target(parsed.path):
            untargeted.append(key)
        else:
            other.append(key)
    if wrong:
        methods = sorted({m for _, m in wrong})
        exam.diagnoses.append(
            diagnosis(
                "wrong-method",
                f"the config says {layout.method.display}, {len(wrong)} key(s) are {', '.join(methods)}'s: "
                + sample([k for k, _ in wrong]),
                tuple(k for k, _ in wrong),
                repair="not repaired: use the config of the run that wrote the weights",
            )
        )
    if untargeted:
        exam.diagnoses.append(
            diagnosis(
                "keys-match-no-target",
                f"target_modules={list(layout.targets or ()) or layout.target_regex!r}, but "
                f"{len(untargeted)} key(s) are of other modules: {sample(untargeted)}",
                tuple(untargeted),
                repair="not repaired: the config cannot be guessed",
            )
        )
    if other:
        exam.diagnoses.append(
            diagnosis(
                "config-mismatch",
                f"{len(other)} key(s) fit no {layout.method.display} checkpoint layout: {sample(other)}",
                tuple(other),
                repair="not repaired",
            )
        )


def _baked(exam: Examination, baked: dict[str, Key], others_are_ours: bool, adapter: Optional[str], hint: str) -> None:
    if not baked:
        return
    names = sorted({p.baked for p in baked.values() if p.baked is not None})
    if adapter is not None:
        ours: Optional[str] = adapter
    elif others_are_ours:
        ours = None  # PEFT-format keys are this adapter's; every baked name is another adapter's
    elif len(names) == 1:
        ours = names[0]
    elif hint in names:
        ours = hint
    else:
        exam.diagnoses.append(
            diagnosis(
                "adapter-name-in-keys",
                f"keys hold the adapter names {', '.join(names)}; which adapter is this file's?",
                tuple(baked),
                repair=AMBIGUOUS + ", pass --adapter NAME",
            )
        )
        return
    mine = {k: p.peft_key() for k, p in baked.items() if p.baked == ours}
    theirs = {k for k, p in baked.items() if p.baked != ours}
    if mine:
        exam.renames.update(mine)
        exam.diagnoses.append(
            diagnosis(
                "adapter-name-in-keys",
                f"{len(mine)} key(s) hold the adapter name {ours!r}: {sample(mine)}",
                tuple(mine),
                repair="adapter name stripped",
                repairable=True,
            )
        )
    if theirs:
        exam.drops |= theirs
        other_names = sorted({str(baked[k].baked) for k in theirs})
        exam.diagnoses.append(
            diagnosis(
                "other-adapters-tensors",
                f"{len(theirs)} tensor(s) of the adapter(s) {', '.join(repr(n) for n in other_names)}: "
                + sample(sorted(theirs)),
                tuple(theirs),
                repair="dropped",
                repairable=True,
            )
        )


def _wrapper_copies(exam: Examination, copies: dict[str, Key], keys: set[str]) -> None:
    if not copies:
        return
    twice = {k for k, p in copies.items() if p.peft_key() in keys}
    exam.drops |= twice
    exam.renames.update({k: p.peft_key() for k, p in copies.items() if k not in twice})
    exam.diagnoses.append(
        diagnosis(
            "wrapper-copies",
            f"{len(copies)} modules_to_save tensor(s) under the wrapper's in-memory name: {sample(sorted(copies))}",
            tuple(copies),
            repair=f"{len(twice)} dropped (PEFT's key is there too), {len(copies) - len(twice)} renamed to PEFT's key",
            repairable=True,
        )
    )


def _refuse_collisions(exam: Examination, tensors: dict[str, Any]) -> None:
    """Two tensors that would get the same key: the mapping is not unambiguous, nothing is repaired."""
    kept = [exam.renames.get(k, k) for k in tensors if k not in exam.drops]
    clashes = sorted({k for k in kept if kept.count(k) > 1})
    if clashes:
        exam.renames.clear()
        exam.drops.clear()
        exam.diagnoses.append(
            diagnosis(
                "config-mismatch",
                f"after the repair {len(clashes)} key(s) would hold two tensors: {sample(clashes)}",
                tuple(clashes),
                repair=AMBIGUOUS,
            )
        )


def _final_keys(
    exam: Examination, tensors: dict[str, Any], parsed: dict[str, Optional[Key]], layout: Layout
) -> dict[str, Key]:
    """The keys of the repaired file, read against the layout, with the shapes' source key."""
    final: dict[str, Key] = {}
    for key in tensors:
        if key in exam.drops:
            continue
        new = exam.renames.get(key, key)
        p = parse(new, layout) if new != key else parsed.get(key)
        if p is not None:
            final[key] = p
    return final
