"""The one-line texts that error messages are made of: every front end reports an error on one line."""
from __future__ import annotations


def one_line(text: object) -> str:
    """`str(text)` with each run of whitespace, line breaks included, made one space."""
    return " ".join(str(text).split())


def error_line(error: BaseException) -> str:
    """`KeyError: 'boom'`: the exception's type and text, on one line."""
    return one_line(f"{type(error).__name__}: {error}")
