"""An evaluation report a designer can open: `python -m kb_index eval ... --report out.html`.

Per language, what the customer's first reply was (the right answer, options that
include it, a wrong answer, turned away; out-of-scope questions told honestly), and the
precision-coverage curve of the answer threshold: for every possible `answer_at`, how
many questions would be answered outright and how often those answers would be right,
with the index's chosen operating point marked. The chart is a PNG (matplotlib) inside
the one HTML file, so the report travels as a single file.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np

from kb_index.evaluate import FIRST_REPLY_COLUMNS, RANKING_COLUMNS, Prediction

LANGUAGE_NAMES = {"ko": "Korean", "ja": "Japanese", "en": "English"}


def coverage_curve(predictions: list[Prediction]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, coverage, precision): answering every question whose confidence is at
    least the threshold (and that is not abstained), the share of all questions answered
    and the share of those answers that are right."""
    eligible = [p for p in predictions if p.decision != "abstain"]
    if not eligible:
        return np.array([]), np.array([]), np.array([])
    order = sorted(eligible, key=lambda p: -p.confidence)
    right = np.cumsum([p.expected is not None and p.ranked[:1] == [p.expected] for p in order])
    answered = np.arange(1, len(order) + 1)
    return (
        np.array([p.confidence for p in order]),
        answered / len(predictions),
        right / answered,
    )


def _chart(predictions: list[Prediction], answer_at: float | None) -> str:
    import matplotlib

    matplotlib.use("Agg")  # no screen here, ever
    from matplotlib import pyplot as plt

    languages = sorted({p.language for p in predictions})
    figure, axes = plt.subplots(figsize=(7.5, 4.5), dpi=110)
    for language in languages:
        mine = [p for p in predictions if p.language == language]
        thresholds, coverage, precision = coverage_curve(mine)
        if not len(thresholds):
            continue
        label = LANGUAGE_NAMES.get(language, language)
        chosen: np.ndarray = (
            np.flatnonzero(thresholds >= answer_at) if answer_at is not None else np.array([], int)
        )
        if len(chosen):
            i = chosen[-1]
            label += f": {precision[i]:.0%} right at {coverage[i]:.0%} answered"
        line = axes.plot(coverage, precision, label=label)[0]
        if len(chosen):
            axes.scatter([coverage[i]], [precision[i]], color=line.get_color(), zorder=3)
    axes.set_xlabel("questions answered outright (coverage)")
    axes.set_ylabel("answers that are right (precision)")
    axes.set_ylim(0.5, 1.01)
    axes.set_xlim(0, 1)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    axes.set_title("Precision vs coverage of the answer threshold (dot: the index's choice)")
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _table(result: dict[str, Any], columns: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
    rows = []
    for name, values in [("all", result), *result["by_language"].items()]:
        cells = "".join(
            f"<td>{'–' if values[c] is None else f'{values[c]:.1%}' if isinstance(values[c], float) else values[c]}</td>"
            for c in columns
        )
        rows.append(f"<tr><th>{html.escape(LANGUAGE_NAMES.get(name, name))}</th>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def write_report(
    path: Path,
    result: dict[str, Any],
    predictions: list[Prediction],
    answer_at: float | None,
    title: str,
) -> None:
    chart = _chart(predictions, answer_at)
    wrong = [p for p in predictions if p.decision == "answer" and not p.answered_right][:40]
    wrong_rows = "".join(
        f"<tr><td>{html.escape(p.language)}</td><td>{html.escape(p.text)}</td>"
        f"<td>{html.escape(str(p.expected))}</td><td>{html.escape(p.ranked[0] if p.ranked else '')}</td></tr>"
        for p in wrong
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1.5rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
caption, h2 {{ text-align: left; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<h2>First reply</h2>
<p>In-scope questions: the right article's answer, options that include it, another
article's answer, or turned away. Out-of-scope questions: told honestly (abstain recall).</p>
{_table(result, FIRST_REPLY_COLUMNS)}
<h2>Ranking</h2>
{_table(result, RANKING_COLUMNS)}
<h2>Answer threshold</h2>
<img alt="precision-coverage curve per language" src="data:image/png;base64,{chart}">
<h2>Wrong answers ({len(wrong)} shown)</h2>
<table><tr><th>lang</th><th>question</th><th>expected</th><th>answered</th></tr>{wrong_rows}</table>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
