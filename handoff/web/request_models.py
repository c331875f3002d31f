"""What clients may send: every request body, query and websocket frame, as a pydantic model.

These models are the gateway's one input boundary. Handlers validate with `parse`, which
turns any refusal into an `InvalidRequest` whose message names the field and says what is
wrong (a 400, or an error frame on a websocket); the OpenAPI document (openapi.py) takes
its request schemas from the same models (`components`, `query_parameters`), so the two
cannot drift apart.

Before a model sees anything, api.parse_json has refused what cannot be parsed safely
(broken syntax, nesting deep enough to exhaust the parser, lone surrogates): a model only
ever validates a parsed value. Types are strict: 7 where a string belongs is refused,
not turned into "7".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import models_json_schema
from pydantic_core import ErrorDetails, PydanticCustomError

from handoff.conversation.models import (
    MAX_CLIENT_ID_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_USERNAME_CHARS,
    VISIBLE_TEXT_PATTERN,
    Availability,
)
from handoff.conversation.state_machine import STATES
from handoff.notices.model import MAX_NOTICE_CHARS, MAX_TOPICS

REF_TEMPLATE = "#/components/schemas/{model}"
# Identity fields as customer/identity.py signs them (its MAX_FIELD_CHARS).
MAX_IDENTITY_FIELD_CHARS = 200
# IANA names: "Asia/Seoul", "America/Argentina/Buenos_Aires", "Etc/GMT+9", "UTC"; empty
# means UTC. analytics.time_zone checks the name exists.
TIME_ZONE_PATTERN = r"^(?:[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+){0,2})?$"
MAX_TIME_ZONE_CHARS = 64

Language = Literal["ko", "ja", "en"]
# A search as typed: the help centre trims longer ones, the suggestions and the agents'
# search refuse them.
MAX_SEARCH_CHARS = 200
# "all" and empty both mean every language.
LanguageFilter = Literal["", "all", "ko", "ja", "en"]
# analytics.FIGURES, in its order (a test holds the two together).
Figure = Literal[
    "outcomes",
    "handoff_reasons",
    "first_reply_wait",
    "handle_time",
    "csat",
    "bot_decisions",
    "articles",
    "labels",
]

# A string with at least one character str.strip() keeps (conversation/models.py: why spelled out).
VisibleText = Annotated[str, Field(pattern=VISIBLE_TEXT_PATTERN)]


class InvalidRequest(ValueError):
    """Input a model refused; the message names the field and says what is wrong."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


class RequestModel(BaseModel):
    """Strict types; fields nobody asked for are ignored unless a model forbids them."""

    # Patterns run on pydantic's default engine (Rust's regex crate), whose `$` means
    # the end, as in the document's JSON Schema (Python's `$` also matches before a
    # final newline).
    model_config = ConfigDict(strict=True, extra="ignore", hide_input_in_errors=True)
    # What the error message calls a key: a body's "field", a query's "parameter".
    noun: ClassVar[str] = "field"
    # A whole message instead of the generic one, by "field/error_type" or "field".
    # "{limit}" and "{length}" are filled in for a string that is too long.
    hints: ClassVar[Mapping[str, str]] = {}
    # The error code for a refusal of a field (by its top-level name); else bad_request.
    codes: ClassVar[Mapping[str, str]] = {}


Model = TypeVar("Model", bound=RequestModel)


def parse(model: type[Model], value: object) -> Model:
    """`value` (parsed JSON, or a query as a dict) as `model`, or InvalidRequest."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]["loc"][0] if errors and errors[0]["loc"] else ""
        code = model.codes.get(str(first), "bad_request")
        raise InvalidRequest(describe(model, errors), code) from None


def describe(model: type[RequestModel], errors: list[ErrorDetails]) -> str:
    """One sentence per thing wrong (at most three), unknown keys together."""
    unknown = [_field(e) for e in errors if e["type"] == "extra_forbidden"]
    parts = []
    if unknown:
        known = ", ".join(sorted(_aliases(model)))
        parts.append(f"unknown {model.noun} {', '.join(unknown)}; use {known}")
    for error in errors:
        if error["type"] != "extra_forbidden":
            sentence = _sentence(model, error)
            if sentence not in parts:
                parts.append(sentence)
    return "; ".join(parts[:3])


def _field(error: ErrorDetails) -> str:
    """Where the error is ("customer.id"); a client's own key is echoed back cut short."""
    return ".".join(str(part)[:_ECHOED_KEY_CHARS] for part in error["loc"])


def _aliases(model: type[RequestModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


_QUOTED = re.compile(r"'([^']*)'")
_ECHOED_KEY_CHARS = 64


def _sentence(model: type[RequestModel], error: ErrorDetails) -> str:
    field = _field(error)
    kind = error["type"]
    context: dict[str, Any] = dict(error.get("ctx") or {})
    hint = model.hints.get(f"{field}/{kind}") or model.hints.get(field)
    if hint is not None:
        given = error.get("input")
        length = len(given) if isinstance(given, str) else 0
        limit = context.get("max_length", "")
        return hint.replace("{length}", str(length)).replace("{limit}", str(limit))
    if kind == "missing":
        phrase = "is required"
    elif kind == "string_type":
        phrase = "must be a string"
    elif kind == "int_type":
        phrase = "must be an integer"
    elif kind == "bool_type":
        phrase = "must be true or false"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        phrase = "must be a JSON object"
    elif kind == "string_too_long":
        given = error.get("input")
        actual = f", not {len(given)}" if isinstance(given, str) else ""
        phrase = f"must be at most {context['max_length']} characters{actual}"
    elif kind == "string_pattern_mismatch":
        if context.get("pattern") == VISIBLE_TEXT_PATTERN:
            phrase = "must have a visible character (not only spaces)"
        else:
            phrase = f"must match {context.get('pattern')}"
    elif kind == "literal_error":
        choices = [c for c in _QUOTED.findall(str(context.get("expected", ""))) if c]
        phrase = f"must be one of {', '.join(choices)}"
    elif kind == "greater_than_equal":
        phrase = f"must be at least {context.get('ge')}"
    else:  # our own checks (PydanticCustomError) say it themselves
        phrase = error["msg"]
    return f"'{field}' {phrase}" if field else phrase


# -- customer side -------------------------------------------------------------


class CustomerFields(RequestModel):
    """Who the customer says they are (customer/identity.py: signed by the host site, or not)."""

    id: str | None = Field(None, max_length=MAX_IDENTITY_FIELD_CHARS)
    name: str | None = Field(None, max_length=MAX_IDENTITY_FIELD_CHARS)
    email: str | None = Field(None, max_length=MAX_IDENTITY_FIELD_CHARS)


class NewConversation(RequestModel):
    """POST /api/conversations (the body may be left out)."""

    language: Language | None = Field(None, description="default: en")
    customer: CustomerFields | None = Field(
        None,
        description="Shown to agents; unsigned, it is labelled unverified and links no "
        "earlier conversations",
    )
    identity_signature: str | None = Field(
        None,
        description="The host site vouches for `customer`: hex HMAC-SHA256, with the secret "
        "shared with the gateway (ASSISTANT_IDENTITY_SECRET), of the UTF-8 text "
        '"v1\\n{id}\\n{email}\\n{name}\\n{identity_expires}" (fields NFC-normalised, absent '
        "ones empty; `customer.id` required). Only a verified identity links the "
        "customer's earlier conversations (by id). `python -m handoff sign-identity` "
        "prints these fields.",
    )
    identity_expires: int | None = Field(
        None,
        description="Unix seconds after which the signature is refused (at most 30 days "
        "ahead); required with identity_signature",
    )

    codes: ClassVar[Mapping[str, str]] = {
        "customer": "invalid_identity",
        "identity_signature": "invalid_identity",
        "identity_expires": "invalid_identity",
    }


class CustomerHistoryRequest(RequestModel):
    """POST /api/customers/history: the signed identity whose earlier conversations to list."""

    customer: CustomerFields = Field(
        description="The customer as the host site signed it (`id` required)"
    )
    identity_signature: str = Field(
        min_length=1,
        max_length=128,
        description="As for POST /api/conversations: hex HMAC-SHA256 of the identity",
    )
    identity_expires: int = Field(
        description="Unix seconds after which the signature is refused (at most 30 days ahead)"
    )

    codes: ClassVar[Mapping[str, str]] = NewConversation.codes


_NOTHING_TO_SEND = "send {'text': '...'} with a non-empty string, or {'payload': '...'}"


def _text_or_payload(schema: dict[str, Any]) -> None:
    """What the model's check below says, as JSON Schema: a visible text, or a payload
    (then the text, if any, is only its label)."""
    schema["anyOf"] = [
        {
            "required": ["text"],
            "properties": {"text": {"type": "string", "pattern": VISIBLE_TEXT_PATTERN}},
        },
        {"required": ["payload"], "properties": {"payload": {"type": "string"}}},
    ]


class CustomerMessage(RequestModel):
    """POST /api/conversations/{conversation_id}/messages: text, or a button's payload."""

    model_config = ConfigDict(json_schema_extra=_text_or_payload)

    text: str | None = Field(None, max_length=MAX_MESSAGE_CHARS)
    payload: VisibleText | None = Field(None, max_length=MAX_MESSAGE_CHARS)
    client_id: str | None = Field(
        None, max_length=MAX_CLIENT_ID_CHARS, description="Makes a resend idempotent"
    )

    hints: ClassVar[Mapping[str, str]] = {
        "text/string_too_long": "text is {length} characters; the limit is {limit}. "
        "Please split it into shorter messages.",
        "payload/string_too_long": "payload is {length} characters; the limit is {limit}.",
        "payload/string_pattern_mismatch": "'payload' must be a non-empty string",
        "client_id/string_too_long": f"'client_id' must be a string of at most "
        f"{MAX_CLIENT_ID_CHARS} characters",
    }

    @model_validator(mode="after")
    def _something_to_send(self) -> CustomerMessage:
        if self.payload is None and (self.text is None or not self.text.strip()):
            raise PydanticCustomError("nothing_to_send", _NOTHING_TO_SEND)
        return self


# An address the email-answer route mails to (handoff/email/answers.py): one @, no
# spaces, CR/LF or commas (a header injection or a second recipient), a domain with a
# dot; ASCII only (an internationalised domain is sent as its punycode "xn--" name).
MAX_EMAIL_CHARS = 254
EMAIL_PATTERN = (
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:[.][A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_EMAIL_HINT = "'email' must be an email address like name@example.com (at most 254 characters)"


class EmailAnswerRequest(RequestModel):
    """POST /api/conversations/{conversation_id}/email-answer: mail a bot answer."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        max_length=MAX_EMAIL_CHARS,
        pattern=EMAIL_PATTERN,
        description="Where to send it; kept only until the mail is sent",
    )
    seq: int = Field(ge=1, le=2**31 - 1, description="The bot message of this conversation")

    hints: ClassVar[Mapping[str, str]] = {
        "email/string_pattern_mismatch": _EMAIL_HINT,
        "email/string_too_long": _EMAIL_HINT,
        "seq": "'seq' must be an integer from 1: the seq of a bot message in this conversation",
    }


class CustomerHello(RequestModel):
    """The customer websocket's first frame (browsers cannot set headers on a websocket)."""

    type: Literal["hello"] = "hello"
    token: str
    last_seq: int | None = Field(None, ge=0, description="the last message already shown")


class CustomerMessageFrame(CustomerMessage):
    """A message over the customer websocket: the HTTP body, with its type."""

    type: Literal["message"]


class CustomerTypingFrame(RequestModel):
    """The widget: the customer is (or stopped) writing to the agent who has the chat."""

    type: Literal["typing"]
    on: bool


# -- agent side ----------------------------------------------------------------


class AgentLogin(RequestModel):
    """POST /api/agent/login."""

    username: str
    password: str

    hints: ClassVar[Mapping[str, str]] = {
        "username": "send {'username': '...', 'password': '...'} as strings",
        "password": "send {'username': '...', 'password': '...'} as strings",
    }


class AgentMessage(RequestModel):
    """POST /api/agent/conversations/{conversation_id}/messages."""

    text: VisibleText = Field(max_length=MAX_MESSAGE_CHARS)

    hints: ClassVar[Mapping[str, str]] = {
        "text/string_too_long": "message is {length} characters; the limit is {limit}",
        "text": "send {'text': '...'} with a non-empty string",
    }


class AgentNote(RequestModel):
    """POST /api/agent/conversations/{conversation_id}/notes: a private note (agents and
    supervisors only), as long as a message may be."""

    text: VisibleText = Field(
        max_length=MAX_MESSAGE_CHARS,
        description="The note; never shown to the customer",
    )

    hints: ClassVar[Mapping[str, str]] = {
        "text/string_too_long": "note is {length} characters; the limit is {limit}",
        "text": "send {'text': '...'} with a non-empty string",
    }


class Reassign(RequestModel):
    """POST /api/agent/conversations/{conversation_id}/reassign (supervisors)."""

    model_config = ConfigDict(extra="forbid")

    agent: VisibleText = Field(
        max_length=MAX_USERNAME_CHARS, description="Username of the agent to give it to"
    )
    force: bool = Field(
        False,
        description="Skip the language, skill and capacity checks (never presence: the "
        "agent must be online)",
    )

    hints: ClassVar[Mapping[str, str]] = {
        "agent": "'agent' must be the username of the agent to give the chat to",
    }


# A transfer's reason: a line or two for the colleague who takes the chat over.
MAX_TRANSFER_REASON_CHARS = 500
# Skills are short words of the agents' configuration ("billing"), like usernames.
MAX_SKILL_CHARS = MAX_USERNAME_CHARS
_ONE_TARGET = "send exactly one of 'to_agent' (a colleague's username) or 'to_skill' (a team)"


def _one_target(schema: dict[str, Any]) -> None:
    """What the model's check below says, as JSON Schema: a colleague or a team, not both."""
    schema["oneOf"] = [
        {"required": [key], "properties": {key: {"type": "string"}}}
        for key in ("to_agent", "to_skill")
    ]


class Transfer(RequestModel):
    """POST /api/agent/conversations/{conversation_id}/transfer: the agent who has the chat
    passes it to a colleague or to a team's queue, with a reason for whoever takes it
    (HandoffService.transfer has the rules)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_target)

    to_agent: VisibleText | None = Field(
        None, max_length=MAX_USERNAME_CHARS, description="Username of the colleague to give it to"
    )
    to_skill: VisibleText | None = Field(
        None, max_length=MAX_SKILL_CHARS, description="The team (a skill) whose queue takes it"
    )
    reason: VisibleText = Field(
        max_length=MAX_TRANSFER_REASON_CHARS,
        description="Why, for the agent who takes it over (card numbers and ids masked); "
        "never shown to the customer",
    )

    hints: ClassVar[Mapping[str, str]] = {
        "reason/string_too_long": "reason is {length} characters; the limit is {limit}",
        "reason": "send {'reason': '...'} with a non-empty string: why you transfer the chat",
        "to_agent": "'to_agent' must be the username of the colleague to give the chat to",
        "to_skill": "'to_skill' must be the name of a team (a skill)",
    }

    @model_validator(mode="after")
    def _exactly_one_target(self) -> Transfer:
        if (self.to_agent is None) == (self.to_skill is None):
            raise PydanticCustomError("one_target", _ONE_TARGET)
        return self


class AvailabilityChange(RequestModel):
    """PUT /api/agent/availability: the agent's own availability (what each means for
    routing: HandoffService.set_availability)."""

    model_config = ConfigDict(extra="forbid")

    availability: Availability = Field(
        description="online: offered new chats; away: not at the desk; busy: working the "
        "chats they have. Away and busy take no new chats and keep the ones they have"
    )


# Labels on one conversation (handoff/agent/labels.py): a handful, never a list to scroll.
MAX_LABELS = 10
LABEL_ID_PATTERN = r"^[a-z0-9_]{1,40}$"


class LabelsChange(RequestModel):
    """PUT /api/agent/conversations/{conversation_id}/labels: the chat's labels from now on
    (replaces the set; [] removes them all). Each an id of data/labels.yml: an id that
    is not on the list is refused with a 400 naming it."""

    model_config = ConfigDict(extra="forbid")

    labels: list[Annotated[str, Field(pattern=LABEL_ID_PATTERN)]] = Field(
        max_length=MAX_LABELS,
        description="label ids (data/labels.yml; GET /api/agent/labels lists them), at most "
        f"{MAX_LABELS}; a repeated id counts once",
    )

    hints: ClassVar[Mapping[str, str]] = {
        "labels/too_long": f"a conversation has at most {MAX_LABELS} labels",
        "labels/list_type": "send {'labels': ['refund', ...]} with a list of label ids",
    }


MAX_RESOLUTION_CHARS = 500


class TicketReply(RequestModel):
    """POST /api/agent/tickets/{ticket_id}/reply: the claimer's answer to an offline ticket,
    stored as an agent message in the ticket's conversation (handoff/conversation/tickets.py)."""

    model_config = ConfigDict(extra="forbid")

    text: VisibleText = Field(
        max_length=MAX_MESSAGE_CHARS, description="The answer the customer will read"
    )

    hints: ClassVar[Mapping[str, str]] = {
        "text/string_too_long": "reply is {length} characters; the limit is {limit}",
        "text": "send {'text': '...'} with a non-empty string",
    }


class TicketClose(RequestModel):
    """POST /api/agent/tickets/{ticket_id}/close: how the ticket ended, optionally."""

    model_config = ConfigDict(extra="forbid")

    resolution: str | None = Field(
        None,
        max_length=MAX_RESOLUTION_CHARS,
        description="How it was resolved, for the desk (never shown to the customer)",
    )

    hints: ClassVar[Mapping[str, str]] = {
        "resolution/string_too_long": "resolution is {length} characters; the limit is {limit}",
        "resolution": "send {'resolution': '...'} with a string, or no body",
    }


class TicketsQuery(RequestModel):
    """GET /api/agent/tickets: which tickets (store.interface.TICKET_VIEWS)."""

    model_config = ConfigDict(extra="forbid")
    noun: ClassVar[str] = "parameter"

    view: Literal["open", "mine", "all"] = Field(
        "all", description="open: nobody has them; mine: claimed or answered by me; all"
    )

    hints: ClassVar[Mapping[str, str]] = {"view": "'view' must be open, mine or all"}


class AgentHello(RequestModel):
    """The first frame of the agent console's and the live view's websockets."""

    type: Literal["hello"] = "hello"
    token: str


class TypingFrame(RequestModel):
    """The agent console: the agent is (or stopped) writing to a customer."""

    type: Literal["typing"]
    conversation_id: str
    on: bool


# -- supervisor queries ------------------------------------------------------------


def _day(value: object) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise PydanticCustomError("day", "must be a date like 2026-12-01")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise PydanticCustomError("day", "is not a date: {why}", {"why": str(exc)}) from None


# A day filter; empty (as the page's cleared date field sends it) means the default.
Day = Annotated[
    date | None,
    PlainValidator(_day),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}],
            "examples": ["2026-12-01"],
        }
    ),
]


class DayRange(RequestModel):
    """The days and language every supervisor report is filtered by."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)
    noun: ClassVar[str] = "parameter"

    start: Day = Field(None, alias="from", description="default: 29 days before `to`")
    end: Day = Field(None, alias="to", description="included; default: today")
    language: LanguageFilter = Field("", description="empty or all: every language")


class AnalyticsQuery(DayRange):
    """GET /api/agent/analytics."""

    format: Literal["json", "csv"] = "json"
    figure: Figure | None = Field(None, description="with format=csv")
    tz: str = Field(
        "",
        max_length=MAX_TIME_ZONE_CHARS,
        pattern=TIME_ZONE_PATTERN,
        description="IANA time zone whose days `from`, `to` and the rows are (DST-exact); "
        "default UTC",
        examples=["Asia/Seoul"],
    )

    hints: ClassVar[Mapping[str, str]] = {
        "tz": "'tz' must be an IANA time zone name like Asia/Seoul or UTC",
    }


class TopicsQuery(DayRange):
    """GET /api/agent/analytics/topics."""

    format: Literal["json", "csv", "yaml"] = "json"


class PopularQuery(RequestModel):
    """GET /api/popular: the questions the widget offers when it opens."""

    model_config = ConfigDict(extra="forbid")
    noun: ClassVar[str] = "parameter"

    language: Language = Field("en", description="the language of the questions")


class SuggestionsQuery(RequestModel):
    """GET /api/suggestions: articles matching what a customer is typing."""

    model_config = ConfigDict(extra="forbid")
    noun: ClassVar[str] = "parameter"

    q: str = Field(max_length=MAX_SEARCH_CHARS, description="what the customer has typed so far")
    language: Language = Field("en", description="the language of the titles")


# -- notices (handoff/notices/) ------------------------------------------------------

# A date and time with its time zone (RFC 3339): 2026-12-05T22:00:00+09:00, ...Z for UTC.
INSTANT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
MAX_TOPIC_CHARS = 64
NoticeTopic = Annotated[str, Field(min_length=1, max_length=MAX_TOPIC_CHARS)]


class NoticeTexts(RequestModel):
    """A notice's text in every language customers write in: all three are required."""

    model_config = ConfigDict(extra="forbid")

    ko: VisibleText = Field(max_length=MAX_NOTICE_CHARS)
    ja: VisibleText = Field(max_length=MAX_NOTICE_CHARS)
    en: VisibleText = Field(max_length=MAX_NOTICE_CHARS)


class NewNotice(RequestModel):
    """POST /api/supervisor/notices: a notice for customers (banner, greeting, answers)."""

    model_config = ConfigDict(extra="forbid")

    text: NoticeTexts = Field(description=f"ko, ja and en, each at most {MAX_NOTICE_CHARS}")
    starts_at: str | None = Field(
        None,
        pattern=INSTANT_PATTERN,
        description="with its time zone, e.g. 2026-12-05T22:00:00+09:00; default: now",
    )
    ends_at: str | None = Field(
        None,
        pattern=INSTANT_PATTERN,
        description="after starts_at and in the future; default: until a supervisor ends it",
    )
    topics: list[NoticeTopic] = Field(
        default_factory=list,
        max_length=MAX_TOPICS,
        description="KB tags or categories (GET /api/supervisor/notices lists them) whose "
        "answers get the notice first; empty: the banner and the greeting only",
    )
    severity: Literal["info", "outage"] = "info"

    hints: ClassVar[Mapping[str, str]] = {
        "text": "send 'text' as {'ko': '...', 'ja': '...', 'en': '...'}",
        "starts_at/string_pattern_mismatch": "'starts_at' must be a date and time with its "
        "time zone, like 2026-12-05T22:00:00+09:00",
        "ends_at/string_pattern_mismatch": "'ends_at' must be a date and time with its "
        "time zone, like 2026-12-05T22:00:00+09:00",
    }

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _real_instant(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError as exc:
                raise PydanticCustomError(
                    "instant", "is not a real date and time: {why}", {"why": str(exc)}
                ) from None
        return value

    @model_validator(mode="after")
    def _ends_after_start(self) -> NewNotice:
        start, end = self.starts_at, self.ends_at
        if start and end and datetime.fromisoformat(end) <= datetime.fromisoformat(start):
            raise PydanticCustomError("ends_before_start", "'ends_at' must be after 'starts_at'")
        return self


class NoticesQuery(RequestModel):
    """GET /api/notices: the notices in force, in one language."""

    model_config = ConfigDict(extra="forbid")
    noun: ClassVar[str] = "parameter"

    language: Language = Field("en", description="the language of the texts")


# What an agent may filter a search by: a conversation's state (state_machine.STATES), or
# empty for any.
SEARCH_STATE_PATTERN = "^(?:" + "|".join(STATES) + ")?$"


class SearchQuery(RequestModel):
    """GET /api/agent/search: conversations and tickets by text, days and state
    (handoff/agent/search_api.py; an empty search needs a day or a state)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)
    noun: ClassVar[str] = "parameter"

    q: str = Field(
        "",
        max_length=MAX_SEARCH_CHARS,
        description="text in a message, the customer's name, email or id, or a ticket "
        "(any language; a substring, case folded)",
    )
    start: Day = Field(None, alias="from", description="active on this UTC day or later")
    end: Day = Field(None, alias="to", description="started on this UTC day or earlier")
    state: str = Field("", pattern=SEARCH_STATE_PATTERN, description="empty: any state")

    hints: ClassVar[Mapping[str, str]] = {
        "q/string_too_long": "'q' must be at most {limit} characters, not {length}",
        "state/string_pattern_mismatch": f"'state' must be empty or one of {', '.join(STATES)}",
    }


def query_dict(query: Mapping[str, str]) -> dict[str, str]:
    """A query string's parameters, the first value of each (as aiohttp's `get`)."""
    return {name: query[name] for name in query}


# -- the OpenAPI document's side ----------------------------------------------------

BODIES: tuple[type[RequestModel], ...] = (
    NewConversation,
    CustomerHistoryRequest,
    CustomerMessage,
    AgentLogin,
    AgentMessage,
    AgentNote,
    Reassign,
    Transfer,
    AvailabilityChange,
    LabelsChange,
    TicketReply,
    TicketClose,
    NewNotice,
    EmailAnswerRequest,
)
FRAMES: tuple[type[RequestModel], ...] = (
    CustomerHello,
    CustomerMessageFrame,
    CustomerTypingFrame,
    AgentHello,
    TypingFrame,
)


def components() -> dict[str, Any]:
    """Every body and frame model's JSON Schema, by model name (nested models included),
    for the document's components/schemas."""
    _, top = models_json_schema(
        [(model, "validation") for model in (*BODIES, *FRAMES)], ref_template=REF_TEMPLATE
    )
    return {name: _untitled(schema) for name, schema in top.get("$defs", {}).items()}


def query_parameters(model: type[RequestModel]) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI parameters (`in: query`)."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    required = set(schema.get("required", []))
    parameters = []
    for name, field in schema["properties"].items():
        field = _not_null(_untitled(field))
        description = field.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": field,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without the `null` a Python default of None brings:
    a query string has no null, only an absent parameter."""
    schema = {key: value for key, value in schema.items() if key != "default" or value is not None}
    choices = [choice for choice in schema.get("anyOf", []) if choice != {"type": "null"}]
    if "anyOf" in schema and len(choices) == 1:
        del schema["anyOf"]
        schema.update(choices[0])
    elif "anyOf" in schema:
        schema["anyOf"] = choices
    return schema


def _untitled(schema: Any, in_properties: bool = False) -> Any:
    """The schema without pydantic's generated titles ("Client Id"): noise in a document."""
    if isinstance(schema, dict):
        return {
            key: _untitled(value, key == "properties" and not in_properties)
            for key, value in schema.items()
            if in_properties or not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [_untitled(item) for item in schema]
    return schema
