"""--peft-version and --peft-methods: one spec, registered the same by the plugin, the CLI and the codemod."""
from __future__ import annotations

import argparse
from typing import Any

import pytest

from flake8_peft_names.peft_options import PEFT_METHODS, PEFT_OPTIONS, PEFT_VERSION, FlagOrConfigValue


class RecordingOptionManager:
    """What flake8's option manager receives from the plugin's add_options."""

    def __init__(self) -> None:
        self.options: dict[str, dict[str, Any]] = {}

    def add_option(self, *names: str, **kwargs: Any) -> None:
        (name,) = names
        self.options[name] = kwargs


def argparse_action(parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    (action,) = [a for a in parser._actions if flag in a.option_strings]
    return action


def test_the_plugin_registers_the_spec_with_flake8() -> None:
    from flake8_peft_names.plugin import Plugin

    manager = RecordingOptionManager()
    Plugin.add_options(manager)
    assert list(manager.options) == ["--peft-version", "--peft-methods", "--project-wide"]
    for option in PEFT_OPTIONS:
        kwargs = manager.options[option.flag]
        assert kwargs["help"] == option.help and kwargs["parse_from_config"] is True and kwargs["default"] is None
        if option.switch:
            assert kwargs["action"] is FlagOrConfigValue
        else:
            assert kwargs["metavar"] == option.metavar
            assert kwargs["comma_separated_list"] is option.comma_separated
    assert manager.options["--peft-methods"]["comma_separated_list"] is True
    assert manager.options["--peft-version"]["comma_separated_list"] is False


def check_parser() -> argparse.ArgumentParser:
    from flake8_peft_names import cli

    parser = cli._parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices["check"]


def codemod_parser() -> argparse.ArgumentParser:
    from flake8_peft_names.codemod import FixPeftNames

    parser = argparse.ArgumentParser()
    FixPeftNames.add_args(parser)
    return parser


@pytest.mark.parametrize("make_parser", [check_parser, codemod_parser], ids=["check", "codemod"])
def test_the_command_and_the_codemod_register_the_spec_with_argparse(make_parser: Any) -> None:
    parser = make_parser()
    for option in PEFT_OPTIONS:
        action = argparse_action(parser, option.flag)
        assert (action.dest, action.help, action.metavar, action.default) == (
            option.dest, option.help, None if option.switch else option.metavar, None
        )
        assert action.nargs == (0 if option.switch else None)
    # raw strings: config.load_config parses them as flake8 parses the config file's values
    args = parser.parse_args(["--peft-version", ">=0.17", "--peft-methods", "lora, ia3", "--project-wide"])
    assert (args.peft_version, args.peft_methods, args.project_wide) == (">=0.17", "lora, ia3", True)


def test_a_comma_separated_value_is_split_as_flake8_splits_it() -> None:
    assert PEFT_METHODS.split("lora,\n  ia3,") == ["lora", "ia3"]
    assert PEFT_METHODS.split("") is None and PEFT_METHODS.split(None) is None
    with pytest.raises(AssertionError):
        PEFT_VERSION.split(">=0.17")


def test_the_codemod_reads_the_options_into_its_settings(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from libcst.codemod import CodemodContext

    from flake8_peft_names.codemod import FixPeftNames
    from flake8_peft_names.peft_facts import METHODS_BY_TYPE

    monkeypatch.chdir(tmp_path)
    args = vars(codemod_parser().parse_args(["--peft-version", "==0.17.1", "--peft-methods", "ia3"]))
    command = FixPeftNames(CodemodContext(), **args)
    assert [str(v) for v in command.config.settings.supported] == ["0.17.1"]
    assert command.config.settings.methods == (METHODS_BY_TYPE["IA3"],)


@pytest.mark.parametrize(
    ("config", "cli", "message"),
    [
        ("peft-version = >=banana", {}, "peft-version='>=banana' is not a PEP 440 version specifier (in setup.cfg)"),
        ("peft-methods = lora,nope", {}, "peft-methods: unknown method 'nope' (known: "),
        ("peft-version = >=banana", {"peft-version": "<0"}, "peft-version='<0' matches no peft release"),
        ("per-file-ignores = train.py", {}, "per-file-ignores: "),
        ("select = PFT9", {}, "select: 'PFT9' matches no rule of flake8-peft-names (in setup.cfg)"),
        ("select = PFT9", {"select": "PFT99"}, "select: 'PFT99' matches no rule of flake8-peft-names"),
    ],
)
def test_a_config_error_names_the_file_of_a_value_read_from_it(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, config: str, cli: dict, message: str
) -> None:
    from flake8_peft_names.config import ConfigError, load_config

    (tmp_path / "setup.cfg").write_text(f"[flake8]\n{config}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        load_config(cli)
    text = str(raised.value)
    assert text.startswith(message) and "\n" not in text
    assert text.endswith(" (in setup.cfg)") is (not cli), text
