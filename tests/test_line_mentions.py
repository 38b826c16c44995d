"""Messages and fix descriptions name the lines a user sees: a notebook's cells, a document's lines."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from flake8_peft_names.config import load_config
from flake8_peft_names.file_job import check_file
from flake8_peft_names.line_mentions import renamed

PLACES = {3: "cell 1 line 2", 9: "cell 2 line 1", 14: "cell 3 line 4"}


def test_single_lines_and_lists_are_renamed_together() -> None:
    assert renamed("used on line 9", PLACES.get) == "used on cell 2 line 1"
    assert renamed("(line 14)", PLACES.get) == "(cell 3 line 4)"
    assert renamed("at 3 places: lines 3, 9, 14", PLACES.get) == (
        "at 3 places: cell 1 line 2, cell 2 line 1, cell 3 line 4"
    )
    assert renamed("on lines 3 and 14", PLACES.get) == "on cell 1 line 2 and cell 3 line 4"


def test_a_list_with_a_line_not_known_is_left_whole() -> None:
    assert renamed("at 2 places: lines 3, 7", PLACES.get) == "at 2 places: lines 3, 7"
    assert renamed("a line 9 that no prefix names", PLACES.get) == "a line 9 that no prefix names"


def test_a_notebook_fix_names_the_cells_it_renames() -> None:
    cells = [
        'from peft import get_peft_model\nNAME = "lora"',
        "model = get_peft_model(base, config, adapter_name=NAME)",
        'model.set_adapter("lora")',
    ]
    notebook = new_notebook(cells=[new_code_cell(c) for c in cells])
    raw = nbformat.writes(notebook).encode("utf-8")
    module_findings, checked = check_file(raw, "train.ipynb", load_config({"peft-version": ">=0.13"}, isolated=True))
    assert checked is not None
    found = checked.to_file(module_findings)  # what the command, the codemod and the server show
    fixes = {f.fix.description for f in found if f.fix is not None}
    assert fixes and all("line" not in d or "cell" in d for d in fixes), fixes
    assert any("cell 1 line 2" in d and "cell 3 line 1" in d for d in fixes), fixes
