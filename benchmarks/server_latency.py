#!/usr/bin/env python3
"""How fast the language server answers on a 2,000-line training script (issue 18; results in BENCHMARKS.md).

    PYTHONPATH=. .venvs/main/bin/python benchmarks/server_latency.py [--runs N] [--lines N] [--file PATH]

`--file` measures a file of your own (a real training script) in place of the generated one; (c) and (d)
then need a finding with a fix in it, and are left out when it has none.

Measures, each as the median (and min/max) of `--runs` runs:

(a) in-process, a changed buffer: the server's check of the document (engine, selection, `# noqa`)
    and its conversion to LSP diagnostics; each run changes one comment, at the end, so the cache never
    answers; what the check freed, and the cycle collector, run between the runs, untimed, as the server
    does once it has answered (DocumentStore.free_spent); (a3) the same with the comment in the middle of
    the file, and (a4) with one or two comment lines inserted there, so that the number of lines changes
    and the server parses the text from the change to the end again (server/reparse.py);
(b) in-process, an unchanged buffer: the same call again (the cache per content hash and config stamp);
(c) in-process, the code actions at a finding for a client that resolves them (the `# noqa` edit made,
    the quick fix deferred), and (d) the resolve of that quick fix (LibCST, as `check --fix`);
(e) end to end: `flake8-peft-names server` in a subprocess over stdio, from sending a full
    textDocument/didChange to receiving its textDocument/publishDiagnostics, with pygls's own client;
    the change as in (a), and in (e4) as in (a4).

Timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import ast
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

BLOCK = '''

@dataclass
class Args{n}:
    model_name: str = "meta-llama/Llama-3.2-1B"
    adapter_path: str = "out/run{n}"
    learning_rate: float = 2e-4
    epochs: int = 3


def load_model{n}(args: Args{n}):
    base = AutoModelForCausalLM.from_pretrained(args.model_name, torch_dtype=torch.bfloat16)
    config = LoraConfig(r=16, lora_alpha=32, target_modules=["q_proj", "v_proj"], lora_dropout=0.05)
    model = get_peft_model(base, config, adapter_name="{name}")
    model.print_trainable_parameters()
    return model


def train{n}(args: Args{n}, dataset):
    model = load_model{n}(args)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate)
    for epoch in range(args.epochs):
        for step, batch in enumerate(dataset):
            loss = model(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if step % 100 == 0:
                print(f"epoch {{epoch}} step {{step}} loss {{loss.item():.4f}}")
    state = {{k: v for k, v in model.state_dict().items() if "lora" in k}}
    torch.save(state, os.path.join(args.adapter_path, "adapter.pt"))
    return model
'''
HEADER = (
    '"""A long fine-tuning script: many runs, each with its own adapter."""\n'
    "import os\nfrom dataclasses import dataclass\n\nimport torch\n"
    "from peft import LoraConfig, get_peft_model\nfrom transformers import AutoModelForCausalLM\n"
)
NAMES = ("sft", "dpo", "lora", "reward", "to", "policy")


def edited(text: str, run: int, where: str) -> str:
    """The text with run `run`'s comment: at the end; in the middle; inserted in the middle, on one line
    or on two, so that every run changes the number of lines."""
    if where == "end":
        return f"{text}# edit {run}\n"
    lines = text.splitlines(keepends=True)
    middle = len(lines) // 2
    comment = f"# edit {run}\n" * (1 + run % 2 if where == "inserted" else 1)
    return "".join(lines[:middle] + [comment] + lines[middle:])


def training_script(lines: int) -> str:
    parts, n = [HEADER], 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(BLOCK.format(n=n, name=NAMES[n % len(NAMES)]))
        n += 1
    return "".join(parts)


Timings = tuple[list[float], list[float]]  # wall ms, CPU ms of this process


def timed(function: Callable[[], object], runs: int, after: Callable[[], object] = lambda: None) -> Timings:
    """`after` runs between the runs, untimed: what the server does once it has answered."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        after()
    return wall, cpu


def row(label: str, times: Timings) -> str:
    wall, cpu = times
    spread = f"{min(wall):.1f} | {max(wall):.1f}"
    cpu_median = f"{statistics.median(cpu):.1f}" if cpu else "-"
    return f"| {label} | {statistics.median(wall):.1f} | {spread} | {cpu_median} |"


def in_process(text: str, folder: Path, runs: int) -> list[str]:
    from lsprotocol import types

    from flake8_peft_names.server.actions import code_actions
    from flake8_peft_names.server.configs import ConfigStore
    from flake8_peft_names.server.diagnostics import place_of, to_diagnostics
    from flake8_peft_names.server.documents import DocumentStore
    from flake8_peft_names.server.rule_links import RuleLinks

    path = folder / "train.py"
    store = DocumentStore(ConfigStore())
    counter = iter(range(10**9))
    rule_links = RuleLinks(folder / "cache")  # the rule pages the diagnostics link, as the server writes them

    def diagnostics(source: str) -> list:
        analysis = store.analyse(path.as_uri(), source, path, deferred=True)  # as the server: free_spent after
        places = [place_of(analysis.uri, analysis.checked.lines, f, "utf-16") for f in analysis.checked.findings]
        template = analysis.loaded.config.rule_docs_url
        href = lambda code: rule_links.href(code, template)  # noqa: E731
        return to_diagnostics(places, analysis.checked.findings, analysis.links, True, href)

    store.analyse(path.as_uri(), text, path)  # imports and first-call costs are not the server's steady state
    # the server frees what a check left, and lets the cycle collector run, after it has sent the diagnostics
    changed = timed(lambda: diagnostics(edited(text, next(counter), "end")), runs, store.free_spent)
    checks = store.checks
    unchanged = timed(lambda: diagnostics(edited(text, checks - 2, "end")), runs)
    assert store.checks == checks, "the cache did not answer"
    middle = timed(lambda: diagnostics(edited(text, next(counter), "middle")), runs, store.free_spent)
    inserted = timed(lambda: diagnostics(edited(text, next(counter), "inserted")), runs, store.free_spent)
    found = diagnostics(text)
    store.free_spent()

    from flake8_peft_names.engine import check_tree
    from flake8_peft_names.server.actions import resolve
    from flake8_peft_names.server.analysis import APPLIED, fixed_text
    from flake8_peft_names.source_files import physical_lines

    analysis = store.analyse(path.as_uri(), text, path)
    tree, lines = ast.parse(text), physical_lines(text)
    settings = analysis.loaded.config.settings
    parse_only = timed(lambda: ast.parse(text), runs)
    engine_only = timed(lambda: check_tree(tree, lines, settings), runs)
    report = [
        f"- document: {text.count(chr(10))} lines, {len(found)} diagnostics",
        "",
        "| measured | median wall ms | min wall ms | max wall ms | median CPU ms |",
        "| --- | ---: | ---: | ---: | ---: |",
        row("(a) diagnostics of a changed buffer, in-process", changed),
        row("(a1) of which: ast.parse of the buffer", parse_only),
        row("(a2) of which: the engine (check_tree) on the parsed tree", engine_only),
        row("(a3) as (a), the comment in the middle of the file", middle),
        row("(a4) as (a), one or two comment lines inserted in the middle", inserted),
        row("(b) diagnostics of an unchanged buffer (cache), in-process", unchanged),
    ]
    # the first finding with a fix the quick fix applies (a display-only one is only shown)
    fixable = [i for i, f in enumerate(analysis.checked.findings) if f.fix and f.fix.applicability in APPLIED]
    if not fixable:
        return report + ["", "(c) and (d) left out: no finding in this file has a fix that a quick fix applies"]
    target = fixable[0]
    places = [place_of(analysis.uri, analysis.checked.lines, f, "utf-16") for f in analysis.checked.findings]
    params = types.CodeActionParams(
        types.TextDocumentIdentifier(path.as_uri()), found[target].range, types.CodeActionContext([])
    )

    def fixer(indices: Sequence[int], tiers: frozenset) -> str:  # no cache: every run fixes again
        return fixed_text(analysis.checked, [analysis.checked.findings[i] for i in indices], tiers)

    def listed() -> list:
        checked, links = analysis.checked, analysis.links
        return code_actions(path.as_uri(), checked, places, found, links, fixer, params, "utf-16", analysis.key)

    actions = listed()
    (quick_fix,) = [a for a in actions if a.data]
    list_actions = timed(listed, runs)
    resolve_fix = timed(lambda: resolve(quick_fix, analysis.checked, analysis.key, fixer, "utf-16"), 3)
    return report + [
        row("(c) code actions at a finding (quick fix deferred, noqa edit), in-process", list_actions),
        row("(d) codeAction/resolve of that quick fix (LibCST, as check --fix), in-process, 3 runs", resolve_fix),
    ]


async def over_stdio(text: str, folder: Path, runs: int) -> dict[str, list[float]]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("benchmark", "1")
    received: dict[int, float] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None:
            received[params.version] = time.perf_counter()

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    await client.start_io(sys.executable, "-m", "flake8_peft_names", "server", env=env)
    document = types.TextDocumentClientCapabilities(publish_diagnostics=types.PublishDiagnosticsClientCapabilities())
    capabilities = types.ClientCapabilities(text_document=document)
    await client.initialize_async(types.InitializeParams(capabilities=capabilities, root_uri=folder.as_uri()))
    client.initialized(types.InitializedParams())
    uri = (folder / "train.py").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text)))
    await _until(lambda: 1 in received)
    times: dict[str, list[float]] = {"end": [], "inserted": []}
    for version in range(2, 2 * runs + 2):
        where = "end" if version < runs + 2 else "inserted"
        sent = time.perf_counter()
        change = types.TextDocumentContentChangeWholeDocument(edited(text, version, where))
        document = types.VersionedTextDocumentIdentifier(uri=uri, version=version)
        client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))
        await _until(lambda: version in received)
        times[where].append((received[version] - sent) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the server did not answer within 60 s")
        await asyncio.sleep(0.001)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--file", type=Path, help="a Python file to measure instead of the generated script")
    args = parser.parse_args()
    text = args.file.read_text(encoding="utf-8") if args.file else training_script(args.lines)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        # the range stated, so that the findings do not depend on the peft installed here
        (folder / "setup.cfg").write_text("[flake8]\nmax-line-length = 120\npeft-version = >=0.13\n")
        (folder / "train.py").write_text(text)
        lines = in_process(text, folder, args.runs)
        stdio = asyncio.run(over_stdio(text, folder, args.runs))
    lines.append(row("(e) didChange -> publishDiagnostics, server process over stdio", (stdio["end"], [])))
    lines.append(row("(e4) as (e), the change as in (a4)", (stdio["inserted"], [])))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {load}, {args.runs} runs each")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
