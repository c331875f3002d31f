"""Rasa's own test stories (`rasa test core`) for the core flows in ko, ja and en.

Each user turn is annotated with the language entity the LanguageDetector must
emit, so these stories also check language detection inside Rasa.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stack.settings import PROJECT_ROOT, Settings

STORIES = Path(__file__).parent / "stories"


@pytest.mark.e2e
def test_rasa_test_stories_pass(tmp_path: Path) -> None:
    model = Settings().model_path
    if not model.exists():
        pytest.fail(f"{model} is missing: run `make train` (make test does it)")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "stack",
            "rasa",
            "test",
            "core",
            "--stories",
            str(STORIES),
            "--model",
            str(model),
            "--endpoints",
            "bot/endpoints.yml",
            "--out",
            str(tmp_path),
            "--no-plot",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={"ASSISTANT_ACTION_WEBHOOK": "http://127.0.0.1:1/webhook", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    failed = (tmp_path / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed, failed
    assert len(list(STORIES.glob("*.yml"))) == 3
