"""Personal data out of what we keep: one place for every pattern.

Two kinds, treated differently:

- **Secrets** — card numbers and national ids (Korean resident registration numbers,
  Japanese My Number). Nobody here ever needs them in full, so they are masked before a
  customer message is stored, and so before anything else sees it: the transcript keeps
  the last four digits of a card (``****-****-****-1111``) and nothing of an id.
- **Contacts** — emails and phone numbers. Agents need them, so they stay in the
  transcript, and are redacted everywhere else: logs, the unanswered records, the stored
  handoff summary and context, and what is sent to Rasa (``***@***``, ``***-****-****``).

Placeholders are symbols only: a Korean conversation that gets "4111 1111 1111 1111"
must not turn English because a placeholder has Latin letters in it (the language is
read from the script, common/language.py), nor should a word like "card" sway intents.

Needs python-stdnum and phonenumbers (the app environment). Rasa's environment imports
common/ too but never this module; it stays Python 3.10-compatible all the same.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any, Callable, Optional

import phonenumbers
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.jp import in_ as my_number
from stdnum.kr import rrn

# -- patterns -------------------------------------------------------------------------

# ASCII on purpose: Korean and Japanese customers type particles right after the address
# ("kim@mail.com으로", "kim@mail.comです"), and \w would take them into the domain.
EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# Cards and national ids are digit runs: groups split by single spaces or hyphens. A run
# stands alone: not part of a word or id ("ORD4111...", a UUID's hex), nor led by "+" (a
# phone). Hangul and kana may touch it ("카드4111...로").
_DIGIT_RUN = re.compile(
    r"(?<![A-Za-z0-9+])(?<![A-Za-z0-9]-)(?<!\d )\d+(?:[ -]\d+)*(?![A-Za-z0-9]|-[A-Za-z0-9]| \d)"
)
_CARD_DIGITS = range(13, 20)
# Phone numbers are found by libphonenumber in each of these regions' conventions
# (domestic Korean, Japanese, North American; "+" numbers of any country).
PHONE_REGIONS = ("KR", "JP", "US")
_MIN_PHONE_DIGITS = 7
_PHONE_START = re.compile(r"(?<![A-Za-z0-9])(?<![A-Za-z0-9]-)")
_PHONE_END = re.compile(r"(?![A-Za-z0-9]|-[A-Za-z0-9])")

EMAIL_MASK = "***@***"
PHONE_MASK = "***-****-****"
RRN_MASK = "******-*******"
MY_NUMBER_MASK = "****-****-****"
CARD_MASK_PREFIX = "****-****-****-"

# What this module writes, for whoever must tell it from text (KB ranking drops it).
PLACEHOLDER = re.compile(
    r"\*{3}@\*{3}|\*{3}-\*{4}-\*{4}|\*{6}-\*{7}|\*{4}-\*{4}-\*{4}(?:-\d{4})?(?!\d)"
)


# -- secrets: cards and national ids ---------------------------------------------------


def _is_rrn(pieces: list[str], separators: list[str]) -> bool:
    """A Korean resident registration number: YYMMDD-SNNNNNN (S: century and sex)."""
    digits = "".join(pieces)
    if [len(p) for p in pieces] not in ([6, 7], [13]):
        return False
    try:
        rrn.get_birth_date(digits)
    except ValidationError:
        return False
    if separators:
        # Written as an RRN: numbers issued since October 2020 have no check digit.
        return True
    # 13 bare digits may be an order number that starts with a date: check digit too.
    return bool(rrn.is_valid(digits))


def _is_my_number(pieces: list[str], separators: list[str]) -> bool:
    """A Japanese My Number: 12 digits (1234 5678 9018 or bare), the last a check digit."""
    if [len(p) for p in pieces] not in ([4, 4, 4], [12]) or len(set(separators)) > 1:
        return False
    return bool(my_number.is_valid("".join(pieces)))


def is_card_number(number: str) -> bool:
    """13-19 digits (spaces and hyphens ignored) that pass the Luhn check."""
    digits = re.sub(r"[ -]", "", number)
    return digits.isdigit() and len(digits) in _CARD_DIGITS and bool(luhn.is_valid(digits))


def _secret_mask(pieces: list[str], separators: list[str], whole: bool) -> str | None:
    """What these digit groups are replaced with, if they are a national id or a card.
    Three groups of four are a My Number only on their own: in "4111 1111 1111 1112"
    (not a card) the last three groups are no id."""
    distinct = whole or len(pieces) == 1 or separators == ["-"]
    if distinct and _is_rrn(pieces, separators):
        return RRN_MASK
    if (whole or len(pieces) == 1) and _is_my_number(pieces, separators):
        return MY_NUMBER_MASK
    digits = "".join(pieces)
    if len(digits) in _CARD_DIGITS and luhn.is_valid(digits):
        return CARD_MASK_PREFIX + digits[-4:]
    return None


def _mask_run(run: str) -> str:
    """The secrets in a run of digit groups, masked, the longest first from the left:
    "4111111111111111 12/27 123" is a card and its expiry; "4111 1111 1111 1111" one card."""
    parts = re.split(r"([ -])", run)
    pieces, separators = parts[0::2], parts[1::2]
    out: list[str] = []
    i = 0
    while i < len(pieces):
        end, mask = i, None
        reach, digits = i, len(pieces[i])  # no secret has more digits than a card
        while reach + 1 < len(pieces) and digits + len(pieces[reach + 1]) <= max(_CARD_DIGITS):
            reach += 1
            digits += len(pieces[reach])
        for j in range(reach, i - 1, -1):
            whole = i == 0 and j == len(pieces) - 1
            mask = _secret_mask(pieces[i : j + 1], separators[i:j], whole)
            if mask is not None:
                end = j
                break
        out.append(mask or pieces[i])
        if end < len(separators):
            out.append(separators[end])
        i = end + 1
    return "".join(out)


def mask_secrets(text: str) -> str:
    """What nobody needs in full: national ids (nothing kept) and card numbers (the
    last four digits kept: ****-****-****-1111). Other numbers stay."""
    return _DIGIT_RUN.sub(lambda m: _mask_run(m.group(0)), text)


# -- contacts: emails and phone numbers ------------------------------------------------


def find_emails(text: str) -> list[str]:
    return [m.group(0) for m in EMAIL.finditer(text)]


def _phone_spans(text: str) -> list[tuple[int, int]]:
    if sum(ch.isdigit() for ch in text) < _MIN_PHONE_DIGITS:
        return []
    spans: set[tuple[int, int]] = set()
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            # libphonenumber takes digits out of ids ("16883231-ea4d-…", a UUID).
            if _PHONE_START.match(text, match.start) and _PHONE_END.match(text, match.end):
                spans.add((match.start, match.end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def find_phones(text: str) -> list[str]:
    """Phone numbers as the customer wrote them (ko, ja, en conventions, or +country)."""
    return [text[start:end] for start, end in _phone_spans(text)]


def redact_contacts(text: str) -> str:
    """Emails as ***@***, phone numbers as ***-****-****."""
    text = EMAIL.sub(EMAIL_MASK, text)
    for start, end in reversed(_phone_spans(text)):
        text = text[:start] + PHONE_MASK + text[end:]
    return text


def redact(text: str) -> str:
    """Everything personal out: for logs, records and anything but the transcript."""
    return redact_contacts(mask_secrets(text))


def redact_strings(value: Any) -> Any:
    """`value` (JSON-like) with every string in it redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_strings(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_strings(item) for item in value]
    return value


# -- logs ------------------------------------------------------------------------------

_REDACTED_MARK = "_pii_redacted"


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a log record in place: its message with its arguments, a traceback,
    a stack. A record is redacted once, unless its message is replaced afterwards
    (`logging.makeLogRecord` fills an empty record made by the factory)."""
    done = getattr(record, _REDACTED_MARK, None)
    if done is not None and done[0] is record.msg and done[1] is record.args:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: logging reports it itself
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    setattr(record, _REDACTED_MARK, (record.msg, record.args))
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """A handler filter that redacts every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_installed_factory: Optional[Callable[..., logging.LogRecord]] = None


def install_log_redaction() -> None:
    """Redact every log record this process creates, whichever logger or handler
    (also those configured later, by a library): through the record factory, and a
    filter on the handlers that exist now (records made elsewhere, e.g. unpickled)."""
    global _installed_factory
    if _installed_factory is None or logging.getLogRecordFactory() is not _installed_factory:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed_factory = factory
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
