"""The NLU training data says what its designers meant.

Inside an `examples: |` block every line is text, '#' included: Rasa skips a line that
is not "- example" with a warning at every training, so a comment written there is noise
in every designer's log (36 warnings per CI run, before these comments moved out)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stack.settings import PROJECT_ROOT

NLU_FILES = sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml"))


def test_there_is_nlu_data_per_language() -> None:
    assert [p.stem for p in NLU_FILES] == ["en", "ja", "ko"]


@pytest.mark.parametrize("path", NLU_FILES, ids=lambda p: p.name)
def test_every_line_of_an_examples_block_is_an_example(path: Path) -> None:
    blocks = yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]
    stray = [
        (block.get("intent"), line)
        for block in blocks
        if "examples" in block
        for line in block["examples"].splitlines()
        if not line.startswith("- ") or not line[2:].strip()
    ]
    assert stray == [], f"{path.name}: lines Rasa would skip (a comment goes above the block)"
