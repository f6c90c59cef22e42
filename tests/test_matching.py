"""Tests for bot.matching: folding, number answers and choice matching."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.matching import MatchResult, fold, match_choice, parse_multi_numbers, parse_number
from bot.messages import Choice

YES = Choice("yes", "✅ Tôi đồng ý")
NO = Choice("no", "❌ Không đồng ý")
YES_NO = [YES, NO]

# --- strategies ----------------------------------------------------------------------

_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # huyền sắc hỏi ngã nặng
_VOWELS = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
_CONSONANTS = [*"bcdghklmnpqrstvx", "đ"]
VIETNAMESE_LETTERS = sorted(
    {
        form(unicodedata.normalize("NFC", vowel + tone))
        for vowel in _VOWELS
        for tone in _TONES
        for form in (str.lower, str.upper)
    }
    | {form(c) for c in _CONSONANTS for form in (str.lower, str.upper)}
)

vietnamese_words = st.text(st.sampled_from(VIETNAMESE_LETTERS), min_size=1, max_size=8)
vietnamese_text = st.lists(
    st.sampled_from([*VIETNAMESE_LETTERS, " ", "  ", "\n", "!", "?", ".", ",", "0", "9"])
).map("".join)
# The same text in NFD, as some keyboards (and macOS) produce it.
vietnamese_any_form = vietnamese_text.flatmap(
    lambda t: st.sampled_from([t, unicodedata.normalize("NFD", t)])
)
with_emoji = st.tuples(vietnamese_any_form, st.sampled_from(["✅ ", "❌", "👉 ", ""])).map(
    lambda pair: pair[1] + pair[0]
)


def _vietnamese_reading(n: int) -> str:
    """The standard Vietnamese reading of 1..99, with diacritics."""
    units = ["", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
    if n < 10:
        return units[n]
    tens, unit = divmod(n, 10)
    head = "mười" if tens == 1 else f"{units[tens]} mươi"
    if unit == 0:
        return head
    if unit == 5:
        tail = "lăm"
    elif unit == 1 and tens > 1:
        tail = "mốt"
    else:
        tail = units[unit]
    return f"{head} {tail}"


# --- fold ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Tôi ĐỒNG Ý!! ", "toi dong y"),
        ("Đoàn Thanh niên", "doan thanh nien"),
        ("✅ Đồng ý", "dong y"),
        ("#2", "2"),
        ("2)", "2"),
        ("a\t\n b", "a b"),
        ("Ðoàn", "doan"),  # U+00D0 typed for Đ
        ("Tôi đồng ý", "toi dong y"),  # NFD input
        ("1️⃣ Có", "1 co"),  # keycap emoji
        ("", ""),
        ("!!!", ""),
    ],
)
def test_fold_examples(text: str, expected: str) -> None:
    assert fold(text) == expected


@given(st.text())
def test_fold_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(with_emoji)
def test_fold_of_vietnamese_is_ascii(text: str) -> None:
    assert fold(text).isascii()


@given(with_emoji)
def test_fold_ignores_case_and_normal_form(text: str) -> None:
    assert fold(text.upper()) == fold(text) == fold(unicodedata.normalize("NFC", text))


# --- parse_number --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2),
        (" 2. ", 2),
        ("số 2", 2),
        ("so 2", 2),
        ("#2", 2),
        ("2)", 2),
        ("(3)", 3),
        ("số hai", 2),
        ("2 ạ", 2),
        ("chọn 3 nhé", 3),
        ("một", 1),
        ("mot", 1),
        ("hai", 2),
        ("ba", 3),
        ("bốn", 4),
        ("bon", 4),
        ("tư", 4),
        ("tu", 4),
        ("năm", 5),
        ("nam", 5),
        ("sáu", 6),
        ("sau", 6),
        ("bảy", 7),
        ("bay", 7),
        ("bẩy", 7),
        ("tám", 8),
        ("tam", 8),
        ("chín", 9),
        ("chin", 9),
        ("mười", 10),
        ("muoi", 10),
        ("mười một", 11),
        ("muoi mot", 11),
        ("mười lăm", 15),
        ("muoi lam", 15),
        ("MƯỜI LĂM", 15),
        ("mười chín", 19),
        ("hai mươi", 20),
        ("hai muoi", 20),
        ("hai mươi mốt", 21),
        ("hai mươi tư", 24),
        ("chín mươi chín", 99),
        ("0", 0),
        ("２", 2),  # full-width digit
        ("", None),
        ("   ", None),
        ("không", None),
        ("có", None),
        ("1,3", None),
        ("1 3", None),
        ("2a", None),
        ("abc", None),
        ("hai ba", None),
        ("mười mười", None),
        ("số", None),
        ("1" * 50, None),
        ("Nam ơi", None),
    ],
)
def test_parse_number_examples(text: str, expected: int | None) -> None:
    assert parse_number(text) == expected


@given(st.integers(min_value=0, max_value=999_999_999), st.sampled_from(["{}", " {}. ", "#{}"]))
def test_parse_number_reads_digits(n: int, template: str) -> None:
    assert parse_number(template.format(n)) == n


@given(st.integers(min_value=1, max_value=99))
def test_parse_number_reads_vietnamese_words(n: int) -> None:
    reading = _vietnamese_reading(n)
    assert parse_number(reading) == n
    assert parse_number(fold(reading)) == n
    assert parse_number(f"số {reading}") == n


# --- parse_multi_numbers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "n", "expected"),
    [
        ("1,3", 4, [1, 3]),
        ("1 3", 4, [1, 3]),
        ("1, 3 và 4", 4, [1, 3, 4]),
        ("1;3", 4, [1, 3]),
        ("một và ba", 4, [1, 3]),
        ("3, 1, 3", 4, [1, 3]),
        ("2", 4, [2]),
        ("2-4", 5, [2, 3, 4]),
        ("từ 2 đến 4", 5, [2, 3, 4]),
        ("số 1 và số 2", 4, [1, 2]),
        ("hai, mười", 10, [2, 10]),
        ("hai mươi", 20, [20]),
        ("mười một và mười hai", 12, [11, 12]),
        ("1,5", 4, None),
        ("0", 4, None),
        ("1-999999999", 4, None),
        ("4-2", 4, None),
        ("1 và táo", 4, None),
        ("", 4, None),
        ("và", 4, None),
        ("2-", 4, [2]),  # trailing punctuation is ignored
    ],
)
def test_parse_multi_numbers_examples(text: str, n: int, expected: list[int] | None) -> None:
    assert parse_multi_numbers(text, n) == expected


@given(
    st.integers(min_value=1, max_value=30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.integers(min_value=1, max_value=n), min_size=1, max_size=8),
            st.lists(st.sampled_from([",", ", ", " ", ";", " và ", " , "]), min_size=8, max_size=8),
        )
    )
)
def test_parse_multi_numbers_reads_any_list(case: tuple[int, list[int], list[str]]) -> None:
    n, numbers, separators = case
    text = str(numbers[0]) + "".join(
        sep + str(num) for sep, num in zip(separators, numbers[1:], strict=False)
    )
    assert parse_multi_numbers(text, n) == sorted(set(numbers))


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=1, max_value=20))
def test_parse_multi_numbers_rejects_out_of_range(n: int, extra: int) -> None:
    assert parse_multi_numbers(f"1, {n + extra}", n) is None


# --- match_choice --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", MatchResult(choice=YES)),
        ("số 1", MatchResult(choice=YES)),
        ("hai", MatchResult(choice=NO)),
        ("dong y", MatchResult(ambiguous=[YES, NO])),
        ("toi dong y", MatchResult(choice=YES)),
        ("khong", MatchResult(choice=NO)),
        ("khong dong y", MatchResult(choice=NO)),
        ("Tôi đồng ý", MatchResult(choice=YES)),
        ("✅ Tôi đồng ý", MatchResult(choice=YES)),
        ("  TÔI ĐỒNG Ý!!", MatchResult(choice=YES)),
        ("yes", MatchResult(choice=YES)),
        ("NO", MatchResult(choice=NO)),
        ("3", MatchResult()),
        ("0", MatchResult()),
        ("", MatchResult()),
        ("✅", MatchResult()),
        ("có lẽ", MatchResult()),
        ("dong", MatchResult(ambiguous=[YES, NO])),
        ("toi y", MatchResult(choice=YES)),  # whole words in order, gaps allowed
        ("y dong", MatchResult()),  # wrong order
        ("khon", MatchResult()),  # not a whole word
    ],
)
def test_match_choice_examples(text: str, expected: MatchResult) -> None:
    assert match_choice(text, YES_NO) == expected


def test_numbered_labels_match_without_their_number() -> None:
    choices = [Choice("a", "1. Sinh hoạt chi đoàn"), Choice("b", "2. Hiến máu")]
    assert match_choice("hiến máu", choices).choice == choices[1]
    assert match_choice("Sinh hoat chi doan", choices).choice == choices[0]


def test_exact_label_beats_a_looser_match() -> None:
    choices = [Choice("short", "Hiến máu"), Choice("long", "Hiến máu nhân đạo")]
    assert match_choice("hien mau", choices) == MatchResult(choice=choices[0])
    assert match_choice("hien mau nhan dao", choices) == MatchResult(choice=choices[1])
    assert match_choice("mau", choices) == MatchResult(ambiguous=choices)


def test_number_word_that_is_a_label_picks_the_label() -> None:
    choices = [Choice("dad", "Ba"), Choice("mom", "Mẹ"), Choice("other", "Khác")]
    assert match_choice("ba", choices).choice == choices[0]
    assert match_choice("3", choices).choice == choices[2]


def test_out_of_range_number_can_still_match_a_label() -> None:
    years = [Choice("y24", "Năm 2024"), Choice("y25", "Năm 2025")]
    assert match_choice("2025", years).choice == years[1]
    assert match_choice("2", years).choice == years[1]
    assert match_choice("nam", years) == MatchResult(ambiguous=years)


def test_no_choices_never_match() -> None:
    assert match_choice("1", []) == MatchResult()


def test_duplicate_labels_are_ambiguous() -> None:
    choices = [Choice("a", "Có"), Choice("b", "Có")]
    assert match_choice("có", choices) == MatchResult(ambiguous=choices)


@given(st.lists(st.text(), min_size=1, max_size=25, unique=True), st.data())
def test_number_i_always_picks_choice_i(labels: list[str], data: st.DataObject) -> None:
    choices = [Choice(f"k{i}", label) for i, label in enumerate(labels)]
    i = data.draw(st.integers(min_value=1, max_value=len(choices)))
    template = data.draw(st.sampled_from(["{}", " {}. ", "số {}", "#{}", "{})"]))
    assert match_choice(template.format(i), choices) == MatchResult(choice=choices[i - 1])


@given(
    st.lists(
        st.lists(vietnamese_words, min_size=1, max_size=4).map(" ".join),
        min_size=1,
        max_size=8,
        unique_by=fold,
    ),
    st.data(),
)
def test_typing_a_label_picks_it(labels: list[str], data: st.DataObject) -> None:
    choices = [Choice(f"k{i}", f"✅ {label}") for i, label in enumerate(labels)]
    i = data.draw(st.integers(min_value=0, max_value=len(choices) - 1))
    typed = data.draw(st.sampled_from([labels[i], fold(labels[i]), labels[i].upper() + "!"]))
    assert match_choice(typed, choices) == MatchResult(choice=choices[i])


@given(st.text(), st.lists(st.text(), max_size=6))
def test_match_choice_never_raises_and_is_consistent(text: str, labels: list[str]) -> None:
    choices = [Choice(f"k{i}", label) for i, label in enumerate(labels)]
    result = match_choice(text, choices)
    assert result.choice is None or not result.ambiguous
    assert len(result.ambiguous) != 1
    assert all(c in choices for c in result.ambiguous)
    assert result.choice is None or result.choice in choices
