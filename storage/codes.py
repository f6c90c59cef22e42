"""Short codes people type on a phone: no 0/O, 1/I/L to confuse."""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[{ALPHABET}]{{{CODE_LENGTH}}}$")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """``"abcd-ef gh"`` -> ``"ABCDEFGH"`` when it has the shape of a code, else None."""
    cleaned = re.sub(r"[\s\-_.]", "", text).upper()
    return cleaned if _CODE_RE.match(cleaned) else None
