"""axe-core (through the kept library axe-playwright-python, which ships it) on a live
Playwright page: what a screen-reader or keyboard user would trip over, as a list a failing
assert can print."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

# axe's own grading; the issues ask for none of these two on any page.
SERIOUS = frozenset({"serious", "critical"})
# Every rule axe runs by default (WCAG 2.0-2.2 A/AA and best practices). Only the results'
# violations come back: passes and "incomplete" are thousands of nodes we would not read.
OPTIONS: dict[str, Any] = {"resultTypes": ["violations"]}

_axe = Axe()


@dataclass(frozen=True)
class Violation:
    """One rule broken by some elements, said so that the fix is plain from the message."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    # axe's per-element "Fix any of the following: ..." (for contrast, the measured ratio)
    why: tuple[str, ...]

    def __str__(self) -> str:
        elements = "; ".join(
            f"{target} -> {why}" for target, why in zip(self.targets, self.why, strict=True)
        )
        return f"{self.rule} ({self.impact}): {self.help} [{elements}]"


def _target(node: dict[str, Any]) -> str:
    # a selector per frame / shadow root; our pages have neither, but join them if there
    return " >> ".join(str(part) for part in node.get("target", []))


def _why(node: dict[str, Any]) -> str:
    return " ".join(str(node.get("failureSummary") or "").split())


def serious_violations(page: Page) -> list[Violation]:
    """The serious and critical axe-core violations on what `page` shows now (hidden
    elements are not checked: call it again in each state worth checking)."""
    results = _axe.run(page, options=OPTIONS).response
    found: list[Violation] = []
    for violation in results["violations"]:
        if violation.get("impact") not in SERIOUS:
            continue
        nodes = violation["nodes"]
        found.append(
            Violation(
                rule=str(violation["id"]),
                impact=str(violation["impact"]),
                help=str(violation["help"]),
                targets=tuple(_target(node) for node in nodes),
                why=tuple(_why(node) for node in nodes),
            )
        )
    return found


def assert_accessible(page: Page, where: str) -> None:
    """No serious or critical violation on `page`; otherwise each one, readable, per line."""
    found = serious_violations(page)
    assert not found, f"axe-core on {where}:\n" + "\n".join(str(v) for v in found)
