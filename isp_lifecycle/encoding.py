"""Text on its way out, made safe for where it goes: one function per destination.

Documents are stored exactly as given; what a person reads is encoded here:
- ``quote``: a bad value inside an error message: ``repr`` of at most 80 characters (every
  control character, surrogate and invisible format character written as an escape), with
  the length said when it was cut, so a 100,000-character id gives a short line.
- ``terminal``: text for a terminal or log line: control characters (ESC, CR, …), lone
  surrogates and bidirectional overrides written as visible escapes, never sent raw.
- ``json_text``: JSON for a terminal or a file: valid JSON with the same escapes.
- ``one_line``: text for a single header line (an email subject): every run of whitespace
  or control characters becomes one space.

HTML is escaped by Jinja2's autoescaping (``notifications.render``), email addresses are
built by ``email.headerregistry`` and Slack/Teams payloads are shaped in
``notifications.channels``: each destination has its one place.
"""

from __future__ import annotations

import json
import re
from typing import Any

QUOTE_LIMIT = 80

# C0 and C1 controls, DEL, lone surrogates, line/paragraph separators, bidirectional controls.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_KEEP_LINES = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# Patterns used off the ``isp check`` path are compiled on first use (``re``'s own cache).
_SURROGATES = r"[\ud800-\udfff]"
_BREAKS = r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+"


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``repr`` of at most ``limit`` characters of a bad value, saying how long it was when cut."""
    if not isinstance(value, str):
        value = str(value)
    if len(value) <= limit:
        return _UNSAFE.sub(_escape, repr(value))
    return _UNSAFE.sub(_escape, repr(value[:limit])) + f"\u2026 ({len(value)} characters)"


def terminal(text: str, *, keep_lines: bool = False) -> str:
    """Text a terminal shows as written: no escape sequence, carriage return or lone surrogate
    reaches it (``keep_lines``: line feeds and tabs stay, for multi-line output we built)."""
    return (_UNSAFE_KEEP_LINES if keep_lines else _UNSAFE).sub(_escape, text)


def key_text(key: Any, limit: int = QUOTE_LIMIT) -> str:
    """A field name inside a path (``partners[0].name``): terminal-safe and at most ``limit``
    characters, so an unknown 100,000-character key gives a short path."""
    text = terminal(key if isinstance(key, str) else str(key))
    return text if len(text) <= limit else text[:limit] + "\u2026"


def json_text(data: Any) -> str:
    """One line of JSON, UTF-8 where it is safe, escapes for what a terminal would act on."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False))


def one_line(text: str) -> str:
    """Text for one header line: whitespace and control characters collapse to single spaces,
    lone surrogates become U+FFFD."""
    return re.sub(_SURROGATES, "\ufffd", re.sub(_BREAKS, " ", text).strip())


def mrkdwn(text: str) -> str:
    """Text for Slack mrkdwn: ``&``, ``<`` and ``>`` escaped as Slack asks, so that ``<!here>``,
    ``<@U…>`` or ``<https://…|label>`` written in a document stay text (no mention, no link)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_CARD_MARKDOWN = r"([\\`*_\[\]()~])"


def card_text(text: str) -> str:
    """Text for an Adaptive Card ``TextBlock`` or fact (Teams renders a Markdown subset there):
    Markdown punctuation backslash-escaped, so ``[x](https://…)`` in a document is no link."""
    return re.sub(_CARD_MARKDOWN, r"\\\1", text)
