"""Echoing values that come from a model file in a message: bounded and escaped, so that a 100 MB
layer name makes a short message and a name holding terminal escape sequences prints inertly."""
from __future__ import annotations

MAX_ECHO_CHARS = 200
MAX_MESSAGE_CHARS = 4000

# Line/paragraph separators and the bidirectional controls that reorder what a terminal shows.
_INVISIBLE = frozenset({0x2028, 0x2029, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def escape_controls(text: str, backslash: bool = True) -> str:
    """Control characters (C0, DEL, C1, incl. ESC of terminal sequences), line and paragraph
    separators, bidirectional controls and lone surrogates as visible escapes; everything else as is. `backslash`: also
    double backslashes (off for whole messages, whose quoted values are escaped already)."""
    out = []
    for char in text:
        code = ord(char)
        if char == "\\" and not backslash:
            out.append(char)
        elif char in _NAMED:
            out.append(_NAMED[char])
        elif code < 0x20 or 0x7F <= code < 0xA0 or code in _INVISIBLE or 0xD800 <= code < 0xE000:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def truncate(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """The first `limit` characters and '… (N more characters)' when longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def quote_for_message(value, limit: int = MAX_ECHO_CHARS) -> str:
    """A value from a model file as it appears in a message: 'text' for a string, escaped and
    truncated to `limit` characters; other values by a bounded repr."""
    if isinstance(value, str):
        return f"'{escape_controls(truncate(value, limit))}'"
    if isinstance(value, (dict, list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return escape_controls(truncate(text, limit))


def bounded_message(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """A whole error message, escaped and truncated: the last guard before stderr."""
    return escape_controls(truncate(message, limit), backslash=False)
