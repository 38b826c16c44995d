#!/usr/bin/env python3
"""Precision of flake8-peft-names on a corpus it was never tuned to (issue 12).

    python scripts/precision-corpus.py                      # download, extract, check, table
    python scripts/precision-corpus.py --split heldout      # one half only
    python scripts/precision-corpus.py --list untriaged     # findings with no verdict, with their source line
    python scripts/precision-corpus.py --split dev --list wrong   # the development half's false alarms
                                                            # (rule authors: never list the held-out half)

The corpus is `precision/corpus.tsv`: projects pinned by version and sha256, each in the `dev` half (rule
authors may read it) or the `heldout` half (nobody tunes to it). Files come from PyPI's simple index
(JSON form), are checked against the pinned sha256 and unpacked into the cache (default
`.precision-cache/`, git-ignored): only `.py` and `.ipynb` files, without the `exclude` folders.
Each project is checked on its own, `check --isolated --output-format=json -j1`, with the Python running
this script (it needs this package importable and nbformat for notebooks).

Verdicts live in `precision/triage-dev.tsv` and `precision/triage-heldout.tsv` (one file per half, so that
rule authors can read one without the other): project, path, line, code, verdict (right|latent|wrong), pattern,
line hash, reason. A verdict matches a finding by (project, path, code, hash of the stripped source line);
the line number only breaks ties between identical lines, so a verdict survives lines moving. A finding
with no verdict counts as "untriaged".
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "precision" / "corpus.tsv"
# One file per half, so that a rule author can read the development verdicts without seeing the held-out ones.
TRIAGE = (ROOT / "precision" / "triage-dev.tsv", ROOT / "precision" / "triage-heldout.tsv")
VERDICTS = ("right", "latent", "wrong")
TRIAGE_HEADER = "project\tpath\tline\tcode\tverdict\tpattern\tline_hash\treason"


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_corpus() -> list[dict]:
    rows = []
    for raw in CORPUS.read_text().splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        name, version, kind, split, exclude, sha = raw.split("\t")
        assert kind in ("sdist", "wheel") and split in ("dev", "heldout"), raw
        rows.append(dict(name=name, version=version, kind=kind, split=split,
                         exclude=[] if exclude == "-" else exclude.split(","), sha256=sha))
    return rows


# ---------------------------------------------------------------- download and extract

def find_file(p: dict) -> dict:
    req = urllib.request.Request(f"https://pypi.org/simple/{norm(p['name'])}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        index = json.load(r)
    for f in index["files"]:
        if f.get("hashes", {}).get("sha256") == p["sha256"]:
            return f
    raise SystemExit(f"{p['name']} {p['version']}: no file with the pinned sha256 on the index")


_downloaded: dict[str, Path] = {}


def download(p: dict, cache: Path) -> Path:
    dl = cache / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    if not _downloaded:  # hash what the cache holds once per run
        _downloaded.update((sha256_file(f), f) for f in dl.iterdir() if f.is_file())
    if p["sha256"] in _downloaded:
        return _downloaded[p["sha256"]]
    f = find_file(p)
    with urllib.request.urlopen(f["url"], timeout=600) as r:
        data = r.read()
    if hashlib.sha256(data).hexdigest() != p["sha256"]:
        raise SystemExit(f"{f['filename']}: sha256 mismatch")
    out = dl / f["filename"]
    out.write_bytes(data)
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def members(archive: Path):
    """(relative path, bytes) of every .py/.ipynb member; an sdist's top folder is dropped."""
    if archive.name.endswith(".whl") or archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
            strip = archive.name.endswith(".zip")
            for n in names:
                rel = n.split("/", 1)[1] if strip and "/" in n else n
                if rel.endswith((".py", ".ipynb")):
                    yield rel, z.read(n)
    else:
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                if not m.isfile() or "/" not in m.name:
                    continue
                rel = m.name.split("/", 1)[1]
                if rel.endswith((".py", ".ipynb")):
                    yield rel, t.extractfile(m).read()


def extract(p: dict, archive: Path, cache: Path) -> Path:
    dest = cache / "corpus" / p["name"]
    stamp = dest / ".precision-source"
    if stamp.exists() and stamp.read_text() == p["sha256"]:
        return dest
    if dest.exists():
        import shutil
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for rel, data in members(archive):
        parts = rel.split("/")
        if parts[0] in p["exclude"] or ".." in parts or rel.startswith("/"):
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    stamp.write_text(p["sha256"])
    return dest


# ---------------------------------------------------------------- check

PEFT_RANGE = ">=0.13"


def run_check(p: dict, corpus: Path, python: str, extra: tuple[str, ...] = ()) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    t0 = time.monotonic()
    # The widest range, as the verdicts were written against it (an unset range would now come from the
    # project's pins or the installed peft, which differ from machine to machine).
    proc = subprocess.run([python, "-m", "flake8_peft_names", "check", "--isolated", "--no-progress", "-j1",
                           f"--peft-version={PEFT_RANGE}", "--output-format=json", *extra, p["name"]],
                          cwd=corpus, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - t0
    try:
        findings = json.loads(proc.stdout or "[]")
    except json.JSONDecodeError:
        raise SystemExit(f"{p['name']}: check printed no JSON (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    for f in findings:
        f["project"] = p["name"]
        f["relpath"] = f["path"].split("/", 1)[1]
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    return dict(findings=findings, errors=errors, seconds=round(seconds, 1), returncode=proc.returncode)


_cell_cache: dict = {}


def source_line(corpus: Path, f: dict) -> str:
    path = corpus / f["path"]
    if "cell" in f:
        key = str(path)
        if key not in _cell_cache:
            import nbformat
            nb = nbformat.read(str(path), as_version=4)
            _cell_cache[key] = nb.cells
        cells = _cell_cache[key]
        lines = cells[f["cell"] - 1].source.splitlines()
    else:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines[f["line"] - 1] if 0 < f["line"] <= len(lines) else ""


def line_hash(text: str) -> str:
    return hashlib.sha1(text.strip().encode()).hexdigest()[:10]


def position(f: dict) -> str:
    return f"cell {f['cell']}:{f['line']}" if "cell" in f else str(f["line"])


def line_number(pos: str) -> int:
    return int(pos.rsplit(":", 1)[-1].split()[-1])


# ---------------------------------------------------------------- triage

def read_triage(paths) -> list[dict]:
    rows = []
    for path in paths:
        if not path.exists():
            continue
        for raw in path.read_text().splitlines()[1:]:
            if not raw.strip() or raw.startswith("#"):
                continue
            cols = raw.split("\t")
            if len(cols) != 8:
                raise SystemExit(f"{path.name}: expected 8 tab-separated columns: {raw!r}")
            row = dict(zip(TRIAGE_HEADER.split("\t"), cols))
            if row["verdict"] not in VERDICTS:
                raise SystemExit(f"{path.name}: verdict must be one of {VERDICTS}: {raw!r}")
            rows.append(row)
    return rows


def attach_verdicts(findings: list[dict], triage: list[dict]) -> list[dict]:
    """Give each finding its verdict; returns the verdicts that matched no finding (stale)."""
    by_key = collections.defaultdict(list)
    for row in triage:
        by_key[(row["project"], row["path"], row["code"], row["line_hash"])].append(row)
    groups = collections.defaultdict(list)
    for f in findings:
        groups[(f["project"], f["relpath"], f["code"], f["line_hash"])].append(f)
    stale = []
    for key, rows in by_key.items():
        fs = sorted(groups.get(key, []), key=lambda f: (f.get("cell", 0), f["line"]))
        rows = sorted(rows, key=lambda r: line_number(r["line"]))
        # pair in order: identical lines keep their relative order when code moves
        for f, row in zip(fs, rows):
            f["verdict"], f["pattern"], f["reason"] = row["verdict"], row["pattern"], row["reason"]
        stale.extend(rows[len(fs):])
    for f in findings:
        f.setdefault("verdict", "untriaged")
    return stale


# ---------------------------------------------------------------- report

def count_lines(root: Path) -> tuple[int, int, int]:
    py = nb = lines = 0
    for path in root.rglob("*"):
        if not path.is_file():  # llmcompressor's sdist has a folder named ast_utils.py
            continue
        if path.suffix == ".py":
            py += 1
            lines += path.read_bytes().count(b"\n")
        elif path.suffix == ".ipynb" and ".ipynb_checkpoints" not in path.parts:
            nb += 1
            try:
                cells = json.loads(path.read_text(encoding="utf-8", errors="replace")).get("cells", [])
            except (json.JSONDecodeError, AttributeError):
                continue
            for c in cells:
                if c.get("cell_type") == "code":
                    src = c.get("source", "")
                    lines += len(src) if isinstance(src, list) else src.count("\n") + 1
    return py, nb, lines


def table(findings: list[dict], codes: list[str]) -> list[str]:
    out = ["| rule | findings | right | latent | wrong | untriaged | right or latent |",
           "|---|---:|---:|---:|---:|---:|---:|"]

    def row(label, fs):
        c = collections.Counter(f["verdict"] for f in fs)
        judged = c["right"] + c["latent"] + c["wrong"]
        share = f"{100 * (c['right'] + c['latent']) / judged:.0f}% of {judged}" if judged else "-"
        return f"| {label} | {len(fs)} | {c['right']} | {c['latent']} | {c['wrong']} | {c['untriaged']} | {share} |"

    for code in codes:
        out.append(row(code, [f for f in findings if f["code"] == code]))
    out.append(row("PFT1xx", [f for f in findings if f["code"].startswith("PFT1")]))
    out.append(row("PFT2xx", [f for f in findings if f["code"].startswith("PFT2")]))
    out.append(row("**all**", findings))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache", type=Path, default=ROOT / ".precision-cache")
    ap.add_argument("--split", choices=("dev", "heldout", "all"), default="all")
    ap.add_argument("--project", action="append", help="only these projects (repeatable)")
    ap.add_argument("--python", default=sys.executable, help="the Python that runs the check")
    ap.add_argument("--triage", type=Path, action="append",
                    help="a verdicts file (repeatable; default precision/triage-dev.tsv and triage-heldout.tsv)")
    ap.add_argument("--local", type=Path, metavar="DIR",
                    help="no downloads: every folder of DIR is a project, checked as it is "
                         "(split from corpus.tsv, else dev)")
    ap.add_argument("--list", choices=("untriaged", "wrong", "all", "stale"), help="also list findings")
    ap.add_argument("--project-wide", action="store_true", help="check with --project-wide (other modules read)")
    ap.add_argument("--write-untriaged", type=Path,
                    help="append a triage-file row (verdict left as '?') for every untriaged finding")
    args = ap.parse_args()
    extra = ("--project-wide",) if args.project_wide else ()

    pinned = read_corpus()
    if args.local:
        splits = {p["name"]: p["split"] for p in pinned}
        pinned = [dict(name=d.name, version="local", kind="folder", split=splits.get(d.name, "dev"), exclude=[],
                       sha256="-") for d in sorted(args.local.iterdir()) if d.is_dir()]
        args.cache = args.local.parent / (args.local.name + "-precision")
    projects = [p for p in pinned
                if (args.split == "all" or p["split"] == args.split)
                and (not args.project or p["name"] in args.project)]
    triage = read_triage(args.triage or TRIAGE)
    findings, per_project = [], []
    for p in projects:
        if args.local:
            root = args.local / p["name"]
            result = run_check(p, args.local, args.python, extra)
        else:
            root = extract(p, download(p, args.cache), args.cache)
            result = run_check(p, args.cache / "corpus", args.python, extra)
        for f in result["findings"]:
            f["split"] = p["split"]
            f["source"] = source_line(args.local or args.cache / "corpus", f)
            f["line_hash"] = line_hash(f["source"])
        findings.extend(result["findings"])
        py, nb, lines = count_lines(root)
        per_project.append(dict(p, py=py, nb=nb, lines=lines, findings=len(result["findings"]),
                                errors=result["errors"], seconds=result["seconds"]))
        print(f"{p['name']} {p['version']}: {py} .py, {nb} notebooks, {lines} lines, "
              f"{len(result['findings'])} findings, {len(result['errors'])} file errors, {result['seconds']} s",
              file=sys.stderr)

    chosen = {p["name"] for p in projects}
    stale = attach_verdicts(findings, [r for r in triage if r["project"] in chosen])
    codes = sorted({path.stem for path in (ROOT / "docs" / "rules").glob("PFT*.md")} | {f["code"] for f in findings})
    args.cache.mkdir(parents=True, exist_ok=True)
    (args.cache / "findings.json").write_text(json.dumps(findings, indent=1))
    (args.cache / "projects.json").write_text(json.dumps(per_project, indent=1))

    print(f"# precision corpus run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, tool commit {tool_commit()}")
    print()
    print("| project | version | kind | split | .py | notebooks | lines | findings | file errors | check s |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    for q in per_project:
        print(f"| {q['name']} | {q['version']} | {q['kind']} | {q['split']} | {q['py']} | {q['nb']} | "
              f"{q['lines']} | {q['findings']} | {len(q['errors'])} | {q['seconds']} |")
    for split in ("dev", "heldout"):
        qs = [q for q in per_project if q["split"] == split]
        if qs:
            print(f"| **{split}: {len(qs)} projects** | | | | {sum(q['py'] for q in qs)} | "
                  f"{sum(q['nb'] for q in qs)} | "
                  f"{sum(q['lines'] for q in qs)} | {sum(q['findings'] for q in qs)} | "
                  f"{sum(len(q['errors']) for q in qs)} | {sum(q['seconds'] for q in qs):.0f} |")
    for split in ("dev", "heldout"):
        fs = [f for f in findings if f["split"] == split]
        if any(q["split"] == split for q in per_project):
            print(f"\n## {split}\n")
            print("\n".join(table(fs, codes)))
    print("\n## both halves\n")
    print("\n".join(table(findings, codes)))

    wrong = [f for f in findings if f["verdict"] == "wrong"]
    if wrong:
        print("\n## wrong findings by pattern\n")
        print("| pattern | dev | heldout | rules |")
        print("|---|---:|---:|---|")
        for pattern, n in collections.Counter(f["pattern"] for f in wrong).most_common():
            these = [f for f in wrong if f["pattern"] == pattern]
            by_code = collections.Counter(f["code"] for f in these)
            halves = collections.Counter(f["split"] for f in these)
            print(f"| {pattern} | {halves['dev']} | {halves['heldout']} | "
                  f"{', '.join(f'{c} {k}' for c, k in sorted(by_code.items()))} |")
    if stale:
        print(f"\n{len(stale)} verdicts in triage.tsv match no finding (stale); --list stale shows them")
    errors = [(q["name"], e) for q in per_project for e in q["errors"]]
    if errors:
        print(f"\n## files the tool could not read ({len(errors)})\n")
        for name, e in errors:
            print(f"- {name}: {e}")

    if args.list:
        print(f"\n## findings: {args.list}\n")
        if args.list == "stale":
            for r in stale:
                print("\t".join(r.values()))
        shown = [f for f in findings if args.list == "all" or f["verdict"] == args.list]
        key = (lambda f: (f["pattern"], f["project"], f["relpath"], f["line"])) if args.list == "wrong" else \
              (lambda f: (f["project"], f["relpath"], f.get("cell", 0), f["line"]))
        for f in sorted(shown, key=key) if args.list != "stale" else []:
            extra = f" [{f['pattern']}]" if args.list == "wrong" else ""
            print(f"{f['project']}/{f['relpath']}:{position(f)}: {f['code']} {f['verdict']}{extra}: {f['message']}")
            print(f"    {f['source'].strip()}")
    if args.write_untriaged:
        with args.write_untriaged.open("a") as fh:
            for f in findings:
                if f["verdict"] == "untriaged":
                    fh.write("\t".join([f["project"], f["relpath"], position(f), f["code"], "?", "?",
                                        f["line_hash"], f["message"].replace("\t", " ")]) + "\n")
    return 0


def tool_commit() -> str:
    try:
        # the last commit that changed the tool itself (this branch's own commits touch only the measurement)
        sha = subprocess.run(["git", "log", "-1", "--format=%h", "--", "flake8_peft_names"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "flake8_peft_names"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+uncommitted changes in flake8_peft_names/" if dirty else "")
    except OSError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
