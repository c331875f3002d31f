"""data/labels.yml is checked when the gateway starts: a broken file is refused with every
problem named and what to do, as a TextsError (the start prints it, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff.agent.labels import LabelsError, load_labels
from handoff.texts_file import TextsError
from stack.settings import Settings


def test_the_shipped_labels_load_with_a_name_in_every_language() -> None:
    catalog = load_labels(Settings().labels_path)
    assert catalog.labels
    for label in catalog.labels:
        assert set(label.names) == {"ko", "ja", "en"}
        assert all(name.strip() for name in label.names.values())


def test_a_label_without_a_japanese_name_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "labels.yml"
    path.write_text("labels:\n  - id: vip\n    name: {ko: 브이아이피, en: VIP}\n", encoding="utf-8")
    with pytest.raises(LabelsError) as refused:
        load_labels(path)
    message = str(refused.value)
    assert str(path) in message
    assert "label vip: name.ja is missing or empty" in message
    assert "start the gateway again" in message
    # The gateway's start catches TextsError and prints it instead of a traceback.
    assert isinstance(refused.value, TextsError)


@pytest.mark.parametrize(
    ("content", "expected"),
    [("labels: [\n", "not valid YAML"), ("- just a list\n", "`labels:` list")],
)
def test_a_broken_file_is_refused(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "labels.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelsError, match=expected):
        load_labels(path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabelsError, match="cannot read it"):
        load_labels(tmp_path / "nowhere.yml")
