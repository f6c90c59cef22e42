"""Message catalogs (Babel .po files): Vietnamese first, English too.

Code names a message by a key (``t("join.welcome", name=...)``); the catalogs hold
the words. ``N_`` marks a key for extraction without translating it yet.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).with_name("locales")
SUPPORTED = ("vi", "en")
FALLBACK = "vi"
DOMAIN = "doanbot"


def N_(key: str) -> str:
    """Mark ``key`` for extraction; it is translated later, where the locale is known."""
    return key


@cache
def catalog(locale: str) -> dict[str, str]:
    """Every ``.po`` file of the locale, merged: ``doanbot.po`` and one per feature area."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            po = read_po(handle, locale=locale)
        merged.update({str(m.id): str(m.string) for m in po if m.id and m.string})
    return merged


def supported(locale: str | None) -> str:
    if locale:
        short = locale.split("-")[0].split("_")[0].lower()
        if short in SUPPORTED:
            return short
    return FALLBACK


def translate(locale: str, key: str, /, **params: object) -> str:
    """The text for ``key`` in ``locale`` (falling back to Vietnamese), filled with ``params``."""
    text = catalog(supported(locale)).get(key) or catalog(FALLBACK).get(key) or key
    return text.format(**params) if params else text


class Translator:
    """Bound to one locale, so flows write ``t("key")``."""

    def __init__(self, locale: str) -> None:
        self.locale = supported(locale)

    def __call__(self, key: str, /, **params: object) -> str:
        return translate(self.locale, key, **params)
