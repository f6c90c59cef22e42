"""Split a long text into messages that fit a platform's length limit."""

from __future__ import annotations

import re

__all__ = ["split_text"]

# Cut points, best first. Paragraph and line breaks are only worth preferring when
# they keep the part at least half full; any whitespace at all beats cutting a word.
_PARAGRAPH_BREAK = re.compile(r"\s*\n[^\S\n]*\n\s*")
_LINE_BREAK = re.compile(r"\s*\n\s*")
_SPACE = re.compile(r"\s+")


def _cut_at(window: str, limit: int) -> int | None:
    """Where to end the next part inside ``window`` (``limit + 1`` chars), if anywhere.

    Returns the start of the last suitable whitespace run; ``window`` starts with a
    non-space character, so the part before the cut is never empty.
    """
    for pattern, earliest in (
        (_PARAGRAPH_BREAK, limit // 2),
        (_LINE_BREAK, limit // 2),
        (_SPACE, 1),
    ):
        starts = [m.start() for m in pattern.finditer(window) if m.start() >= max(earliest, 1)]
        if starts:
            return starts[-1]
    return None


def split_text(text: str, limit: int = 2000) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters.

    Cuts go at a paragraph break if one keeps the part at least half full, else at a
    line break likewise, else at the last space; a word is only cut when it is longer
    than ``limit`` on its own. The whitespace at each cut and at both ends of the text
    is dropped, so no part starts or ends with whitespace and no part is empty; the
    parts are otherwise the text, in order. Whitespace-only text gives ``[]``.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    parts: list[str] = []
    while len(rest) > limit:
        cut = _cut_at(rest[: limit + 1], limit)
        if cut is None:
            parts.append(rest[:limit])
            rest = rest[limit:]
        else:
            parts.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts
