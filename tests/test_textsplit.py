"""Tests for bot.textsplit.split_text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.textsplit import split_text

# Text with plenty of structure: short words, spaces, line and paragraph breaks.
structured_text = st.lists(
    st.sampled_from(["a", "bb", "ccc", "Đoàn", "x" * 12, " ", "  ", "\n", "\n\n", "\t", " \n "])
).map("".join)
limits = st.integers(min_value=1, max_value=40)


def _check_parts(text: str, parts: list[str], limit: int) -> None:
    """The parts are the text in order, cut only at whitespace or inside long words."""
    source = text.strip()
    position = 0
    for index, part in enumerate(parts):
        assert part, "empty part"
        assert len(part) <= limit
        assert part == part.strip(), "whitespace at a cut was kept"
        skipped = source[position:]
        stripped = skipped.lstrip()
        gap = len(skipped) - len(stripped)
        if index > 0 and gap == 0:
            # A cut inside a word: only when that word alone is longer than the limit.
            previous = parts[index - 1]
            assert len(previous) == limit
            assert not any(ch.isspace() for ch in previous)
        position += gap
        assert source[position : position + len(part)] == part
        position += len(part)
    assert position == len(source)


@given(structured_text, limits)
def test_parts_reassemble_the_text(text: str, limit: int) -> None:
    _check_parts(text, split_text(text, limit), limit)


@given(st.text(), limits)
def test_parts_reassemble_any_text(text: str, limit: int) -> None:
    _check_parts(text, split_text(text, limit), limit)


@given(st.text(), st.integers(min_value=1, max_value=3000))
def test_short_text_is_one_part(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    if not text.strip():
        assert parts == []
    elif len(text.strip()) <= limit:
        assert parts == [text.strip()]
    else:
        assert len(parts) > 1


@given(st.lists(st.text("abcđơ", min_size=1, max_size=10), min_size=1), limits)
def test_words_are_never_cut_when_they_fit(words: list[str], limit: int) -> None:
    text = " ".join(words)
    parts = split_text(text, limit)
    if all(len(word) <= limit for word in words):
        assert [w for part in parts for w in part.split(" ")] == words


def test_prefers_paragraph_breaks() -> None:
    first = "Một câu ngắn. " * 5
    second = "Đoạn thứ hai.\nDòng hai."
    parts = split_text(f"{first}\n\n{second}", limit=len(first) + 10)
    assert parts == [first.strip(), second]


def test_prefers_line_breaks_over_spaces() -> None:
    text = "aaaa bbbb\ncccc dddd"
    assert split_text(text, limit=14) == ["aaaa bbbb", "cccc dddd"]


def test_ignores_a_paragraph_break_that_leaves_the_part_nearly_empty() -> None:
    text = "Tiêu đề\n\n" + "chữ " * 10
    parts = split_text(text, limit=30)
    assert parts[0].startswith("Tiêu đề\n\nchữ")


def test_cuts_a_word_longer_than_the_limit() -> None:
    assert split_text("ab " + "x" * 12 + " cd", limit=5) == ["ab", "xxxxx", "xxxxx", "xx cd"]


def test_blank_text_gives_no_parts() -> None:
    assert split_text("") == []
    assert split_text(" \n\n\t ") == []


def test_default_limit_is_zalos() -> None:
    parts = split_text("từ " * 1500)
    assert len(parts) == 3
    assert all(len(part) <= 2000 for part in parts)


def test_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        split_text("abc", limit=0)
