"""Every message key used in code exists, filled, in both catalogs, with the same placeholders."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from bot.i18n import SUPPORTED, catalog

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {"t": None, "N_": None, "translate": (2,), "_tr": None}


@cache
def used_keys() -> frozenset[str]:
    keys: set[str] = set()
    for package in ("bot", "handlers", "storage", "scheduler"):
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / package,
            method_map=[("**/sandbox/**", "ignore"), ("**.py", "python")],
            keywords=KEYWORDS,
        ):
            if isinstance(message, str) and "." in message and " " not in message:
                keys.add(message)
    return frozenset(keys)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_code_uses_many_keys() -> None:
    assert len(used_keys()) > 50  # the extractor really sees the code


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_key_is_translated(locale: str) -> None:
    missing = sorted(used_keys() - set(catalog(locale)))
    assert not missing, f"missing in {locale}: {missing}"


def test_placeholders_match_between_languages() -> None:
    vi, en = catalog("vi"), catalog("en")
    wrong = [k for k in vi if k in en and placeholders(vi[k]) != placeholders(en[k])]
    assert not wrong


def test_no_unused_entries() -> None:
    unused = [k for k in catalog("vi") if k not in used_keys()]
    assert not unused, f"unused catalog entries: {unused}"
