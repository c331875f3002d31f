"""The gateway's API against its own OpenAPI document, fuzzed by schemathesis with every
check it has (`--checks all`: server errors, status codes, content types, response
schemas and headers, negative data rejected, positive data accepted, auth not ignored,
405s with `Allow`, ...), with a customer's and a supervisor's credentials, on a gateway
of its own beside the live stack (sharing its Rasa and action server).

Its own gateway and database, because thousands of generated requests (sign-in attempts,
conversations) would run up the sign-in throttle and the analytics figures other tests
read. A path's
`conversation_id` is a real conversation the credentials open, so the fuzzing reaches past
the 403s. The run is bounded: a fixed number of examples per operation, a fixed seed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from stack.launcher import Stack
from stack.settings import APP_VENV, Settings
from tests.e2e.isolated import add_agent, gateway_beside

pytestmark = pytest.mark.e2e

SUPERVISOR = "fuzzlead"
PASSWORD = "fuzz-lead-password-7"
LOG_NAME = "fuzz-gateway"
EXAMPLES_PER_OPERATION = 40
SEED = 20261205
# Signing out would end the fuzzer's own session half-way through the run.
EXCLUDED_PATHS = ("/api/agent/logout",)


@dataclass(frozen=True)
class FuzzGateway:
    url: str
    settings: Settings  # the live stack's: Rasa and the action server are shared
    log: Path
    log_from: int  # the log is appended to across runs: this run's part starts here

    def log_text(self) -> str:
        with self.log.open("rb") as file:
            file.seek(self.log_from)
            return file.read().decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def fuzz_gateway(
    live_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzGateway]:
    state = tmp_path_factory.mktemp("fuzz")
    log = live_stack.settings.log_dir / f"{LOG_NAME}.log"
    log_from = log.stat().st_size if log.exists() else 0
    with gateway_beside(live_stack.settings, state, LOG_NAME) as url:
        settings = live_stack.settings.replace(db_path=state / "handoff.sqlite3")
        yield FuzzGateway(url, settings, log, log_from)


def credentials(gateway: FuzzGateway) -> dict[str, str]:
    """A customer's conversation and token, and a supervisor's session token."""
    url = gateway.url
    add_agent(gateway.settings, SUPERVISOR, PASSWORD, "--role", "supervisor")
    started = requests.post(f"{url}/api/conversations", json={"language": "ko"}, timeout=10)
    assert started.status_code == 201, started.text
    signed_in = requests.post(
        f"{url}/api/agent/login", json={"username": SUPERVISOR, "password": PASSWORD}, timeout=10
    )
    assert signed_in.status_code == 200, signed_in.text
    return {
        "conversation_id": started.json()["conversation_id"],
        "customer_token": started.json()["token"],
        "agent_token": signed_in.json()["token"],
    }


def config_file(directory: Path, creds: dict[str, str]) -> Path:
    """schemathesis.toml: which credentials and conversation each group of paths gets.
    A file (0600), not the command line: tokens never go into argv."""
    conversation = creds["conversation_id"]
    text = f"""
# The gateway waits for the bot's reply (up to the Rasa timeout) before it answers a message.
request-timeout = 60

[[operations]]
include-path-regex = "^/api/agent/"
headers = {{ Authorization = "Bearer {creds["agent_token"]}" }}
parameters = {{ "path.conversation_id" = "{conversation}" }}

[[operations]]
include-path-regex = "^/api/conversations/"
headers = {{ Authorization = "Bearer {creds["customer_token"]}" }}
parameters = {{ "path.conversation_id" = "{conversation}" }}

[[operations]]
include-path-regex = "^/api/supervisor/"
headers = {{ Authorization = "Bearer {creds["agent_token"]}" }}

# Rules across fields that a JSON schema cannot state, so schema-valid data may get a 400:
# a range whose `from` is after its `to` ...
[[operations]]
include-path-regex = "^/api/agent/analytics"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403"]

# ... a search with nothing to search by (no q, day or state), or `from` after `to` ...
[[operations]]
include-path-regex = "^/api/agent/search$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403"]

# ... the designers' list of labels (data/labels.yml), which the schema does not name ...
[[operations]]
include-path-regex = "^/api/agent/conversations/[^/]+/labels$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403"]

# ... a notice's topics (the KB's tags, which the schema does not name), an end already past,
# a notice id that does not exist (404) or one from data/notices.yml (409) ...
[[operations]]
include-path-regex = "^/api/supervisor/notices"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]

# ... a ticket id that does not exist (404), or a ticket that cannot change now: not
# claimed, claimed by someone else, closed (409) ...
[[operations]]
include-path-regex = "^/api/agent/tickets/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]

# ... a file's type, read from its bytes (random bytes are no image: 415), an attachment
# id that does not exist (404), a chat not assigned to the fuzzer (403), the upload rate ...
[[operations]]
include-path-regex = "/attachments"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "413", "415", "429"]

# ... inbound email, off on this stack (404), and a mail no generator makes a valid token for ...
[[operations]]
include-path-regex = "^/api/email/"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "413", "415", "422"]

# ... and a signed identity, whose HMAC no generator can produce.
[[operations]]
include-path-regex = "^/api/conversations$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "429"]

# ... nor can it produce the history token a signed identity is exchanged for.
[[operations]]
include-path-regex = "^/api/customers/history"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "429"]
"""
    path = directory / "schemathesis.toml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def test_gateway_api_matches_its_document(fuzz_gateway: FuzzGateway, tmp_path: Path) -> None:
    url = fuzz_gateway.url
    config = config_file(tmp_path, credentials(fuzz_gateway))
    command = [
        str(APP_VENV / "bin" / "schemathesis"),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{url}/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    for path in EXCLUDED_PATHS:
        command += ["--exclude-path", path]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False
    )
    # The whole report on failure: each finding names the operation, the check and a
    # curl command that reproduces it.
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-4000:]
    assert "No issues found" in done.stdout or "passed" in done.stdout, done.stdout[-4000:]
    log = fuzz_gateway.log_text()
    assert "Traceback" not in log, "a client's input left a traceback in the gateway's log"
