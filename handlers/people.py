"""Names people give themselves, and how roles read."""

from __future__ import annotations

import re
import unicodedata

from bot.i18n import N_

NAME_MAX = 80
_NAME_CHARS = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*$")


def clean_name(text: str) -> str:
    """Collapse spaces, normalise to NFC (phones send both forms), capitalise an all-lowercase
    name the way Vietnamese names are written ("nguyễn văn an" -> "Nguyễn Văn An")."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if name == name.lower():
        name = " ".join(word[:1].upper() + word[1:] for word in name.split())
    return name


def name_problem(name: str) -> str | None:
    """A catalog key saying what is wrong with ``name``, or None when it is fine."""
    if len(name) > NAME_MAX:
        return N_("name.too_long")
    if not _NAME_CHARS.match(name):
        return N_("name.invalid")
    if len(name.split()) < 2:
        return N_("name.too_short")
    return None
