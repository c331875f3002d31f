"""The evaluation report: first replies per language and the precision-coverage curve."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from kb_index.evaluate import Prediction, metrics
from kb_index.report import coverage_curve, write_report


def prediction(
    language: str, expected: str | None, top: str, decision: str, confidence: float
) -> Prediction:
    return Prediction("q", expected, language, decision, [top, "other"], [1.0, 0.5], [], confidence)


PREDICTIONS = [
    prediction("ko", "a", "a", "answer", 0.95),
    prediction("ko", "a", "b", "answer", 0.90),  # wrong
    prediction("ko", "a", "a", "clarify", 0.40),
    prediction("ko", None, "a", "abstain", 0.10),
    prediction("en", "b", "b", "answer", 0.99),
    prediction("en", None, "a", "clarify", 0.30),
]


def test_the_curve_is_precision_over_coverage_by_confidence() -> None:
    thresholds, coverage, precision = coverage_curve([p for p in PREDICTIONS if p.language == "ko"])
    assert list(thresholds) == [0.95, 0.90, 0.40]  # the abstained one is never answered
    assert list(coverage) == [0.25, 0.5, 0.75]
    assert list(precision) == [1.0, 0.5, 2 / 3]


def test_first_reply_rates(tmp_path: Path) -> None:
    result = metrics(PREDICTIONS)
    ko = result["by_language"]["ko"]
    assert (ko["right_answer"], ko["wrong_answer"], ko["abstain_recall"]) == (0.3333, 0.3333, 1.0)


def test_the_report_is_one_html_file_with_the_chart(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_report(path, metrics(PREDICTIONS), PREDICTIONS, answer_at=0.9, title="demo <kb>")
    page = path.read_text(encoding="utf-8")
    assert "demo &lt;kb&gt;" in page  # escaped
    assert "Korean" in page and "right answer" in page
    png = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", page).group(1))  # type: ignore[union-attr]
    assert png.startswith(b"\x89PNG")
