"""Match a typed answer against the choices of a question.

Zalo has no buttons, so a question's choices are shown as a numbered list and the
person answers by text; Telegram users may type instead of pressing, too. Everything
here is a pure function of its arguments.

Answers are compared after :func:`fold`: lower case, no Vietnamese diacritics, no
emoji or punctuation at the edges. Words are runs of letters and digits, so emoji,
symbols and punctuation inside a label never have to be typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.messages import Choice

__all__ = ["MatchResult", "fold", "match_choice", "parse_multi_numbers", "parse_number"]

# Letters that do not decompose under NFD. "ð"/"Ð" (Icelandic eth) look exactly like
# "đ"/"Đ" and are typed in their place by some keyboards.
_STROKE_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
# Combining marks (Vietnamese tones, emoji variation selectors, keycaps) and invisible
# format characters (zero-width joiners/spaces).
_DROPPED_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
_WORD = re.compile(r"[^\W_]+")

_MAX_DIGITS = 9  # longer digit runs are not menu answers (and int() would be slow)


def fold(text: str) -> str:
    """Normalise text for comparison.

    Lower case, Vietnamese diacritics removed ("đ" becomes "d"), whitespace collapsed
    to single spaces, and anything that is not a letter or digit (punctuation, emoji,
    symbols) removed from both ends. ``fold("  Tôi ĐỒNG Ý!! ") == "toi dong y"``.
    """
    lowered = text.lower().translate(_STROKE_LETTERS)
    decomposed = unicodedata.normalize("NFD", lowered)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    collapsed = " ".join(bare.split())
    start, end = 0, len(collapsed)
    while start < end and not collapsed[start].isalnum():
        start += 1
    while end > start and not collapsed[end - 1].isalnum():
        end -= 1
    return collapsed[start:end]


def _words(text: str) -> list[str]:
    """The folded words of ``text``: runs of letters and digits."""
    return _WORD.findall(fold(text))


# --- numbers -----------------------------------------------------------------------

_UNITS = {
    "mot": 1,
    "hai": 2,
    "ba": 3,
    "bon": 4,
    "tu": 4,
    "nam": 5,
    "sau": 6,
    "bay": 7,
    "tam": 8,
    "chin": 9,
}
# Unit words after "mười"/"mươi": "mười lăm" = 15, "hai mươi mốt" = 21 ("mốt" folds
# to "mot"), "hai mươi tư" = 24.
_UNITS_AFTER_TEN = {**_UNITS, "lam": 5, "nham": 5}
_TEN = "muoi"  # both "mười" (10) and "mươi" (as in "hai mươi")
_TENS_WORDS = frozenset({"muoi", "chuc"})

# Words that may introduce a number: "số 2", "chọn 2", "phương án 2", "tôi chọn số 2".
_PREFIXES: tuple[tuple[str, ...], ...] = (
    ("toi", "chon", "so"),
    ("em", "chon", "so"),
    ("minh", "chon", "so"),
    ("toi", "chon"),
    ("em", "chon"),
    ("minh", "chon"),
    ("lua", "chon", "so"),
    ("lua", "chon"),
    ("chon", "so"),
    ("phuong", "an", "so"),
    ("phuong", "an"),
    ("dap", "an", "so"),
    ("dap", "an"),
    ("chon",),
    ("so",),
)
# Polite particles that may follow the answer: "2 ạ", "số 3 nhé".
_PARTICLES = frozenset({"a", "ah", "nhe", "nha", "nhen", "ne", "di", "luon", "ha"})
# Words and separators allowed between the numbers of a multiple-choice answer. A
# number never spans a separator: "hai, mười" is 2 and 10 while "hai mươi" is 20.
_LIST_SEPARATORS = ",;/&+"
_CONNECTORS = frozenset({"va", "voi", "cung", "and", "so", "hoac", *_LIST_SEPARATORS})
_RANGE_WORDS = frozenset({"den"})


def _words_to_int(words: Sequence[str]) -> int | None:
    """Read a Vietnamese number word sequence (1..99), or None."""
    if len(words) == 1:
        if words[0] == _TEN:
            return 10
        return _UNITS.get(words[0])
    if len(words) == 2 and words[0] == _TEN:
        unit = _UNITS_AFTER_TEN.get(words[1])
        return None if unit is None else 10 + unit
    tens = _UNITS.get(words[0]) if words else None
    if tens is None or tens < 2 or words[1] not in _TENS_WORDS:
        return None
    if len(words) == 2:
        return tens * 10
    if len(words) == 3:
        unit = _UNITS_AFTER_TEN.get(words[2])
        return None if unit is None else tens * 10 + unit
    return None


def _digits_to_int(word: str) -> int | None:
    """Read a run of decimal digits, or None for anything else or absurdly long runs."""
    if not word.isdecimal() or len(word) > _MAX_DIGITS:
        return None
    return int(word)


def _strip_frame(words: list[str]) -> list[str]:
    """Drop a leading "số"/"chọn"/... and trailing polite particles."""
    for prefix in _PREFIXES:
        if len(words) > len(prefix) and tuple(words[: len(prefix)]) == prefix:
            words = words[len(prefix) :]
            break
    while len(words) > 1 and words[-1] in _PARTICLES:
        words = words[:-1]
    return words


def _read_number(text: str) -> tuple[int, bool] | None:
    """The number in a number answer and whether it was written in digits."""
    words = _strip_frame(_words(text))
    if len(words) == 1:
        value = _digits_to_int(words[0])
        if value is not None:
            return value, True
    value = _words_to_int(words) if words else None
    return None if value is None else (value, False)


def parse_number(text: str) -> int | None:
    """Read an answer that is a single number, in digits or Vietnamese words.

    "2", " 2. ", "số 2", "#2", "2)", "hai", "số hai", "mười lăm", "hai mươi mốt" are
    numbers; anything with other words in it is not and gives None. Only call this
    when a menu is waiting: "nam" reads as 5 and "ba" as 3 even though they are also
    a given name and "father".
    """
    found = _read_number(text)
    return None if found is None else found[0]


def _number_at(words: list[str], i: int) -> tuple[int | None, int]:
    """The longest number starting at ``words[i]`` and how many words it takes."""
    value = _digits_to_int(words[i])
    if value is not None:
        return value, 1
    for length in (3, 2, 1):
        span = words[i : i + length]
        if len(span) == length:
            value = _words_to_int(span)
            if value is not None:
                return value, length
    return None, 1


def _read_numbers(words: list[str], n: int) -> list[int] | None:
    """Read numbers and ranges ("1-3", "1 đến 3"), all within ``1..n``, from words."""
    numbers: list[int] = []
    pending_range = False
    i = 0
    while i < len(words):
        word = words[i]
        value, length = _number_at(words, i)
        if value is not None:
            if not 1 <= value <= n:
                return None
            if pending_range:
                low = numbers[-1]
                if value < low:
                    return None
                numbers.extend(range(low + 1, value + 1))
                pending_range = False
            else:
                numbers.append(value)
            i += length
            continue
        if word in _RANGE_WORDS and numbers and not pending_range:
            pending_range = True
        elif word not in _CONNECTORS:
            return None
        i += 1
    if pending_range or not numbers:
        return None
    return numbers


_RANGE_DASH = re.compile(r"(?<=\w)\s*[-–—]\s*(?=\w)")
_LIST_TOKEN = re.compile(rf"[^\W_]+|[{re.escape(_LIST_SEPARATORS)}]")


def parse_multi_numbers(text: str, n: int) -> list[int] | None:
    """Read a multiple-choice answer: "1,3", "1 3", "1, 3 và 4", "1;3", "một và ba".

    Ranges "2-4" and "2 đến 4" are expanded. Returns the sorted unique 1-based
    indexes, or None when the text is not a list of numbers or any of them is
    outside ``1..n``.
    """
    folded = fold(text)
    if not folded:
        return None
    words = _strip_frame(_LIST_TOKEN.findall(_RANGE_DASH.sub(" den ", folded)))
    if len(words) > 2 and words[0] == "tu" and "den" in words:
        words = words[1:]  # "từ 2 đến 4": here "tu" is "from", not 4
    numbers = _read_numbers(words, n)
    return None if numbers is None else sorted(set(numbers))


# --- choices -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The outcome of :func:`match_choice`.

    ``choice`` is the matched option; when several options fit equally well it is
    None and ``ambiguous`` lists them in menu order. Both empty means no match.
    """

    choice: Choice | None = None
    ambiguous: list[Choice] = field(default_factory=list)


def _label_forms(label: str) -> list[list[str]]:
    """The word sequences a label can be typed as: whole, or without its number."""
    words = _words(label)
    forms = [words]
    if len(words) > 1 and words[0].isdecimal():
        forms.append(words[1:])
    return forms


def _is_subsequence(needle: Sequence[str], haystack: Sequence[str]) -> bool:
    """Whether all of ``needle`` occurs in ``haystack`` in order (gaps allowed)."""
    remaining = iter(haystack)
    return all(word in remaining for word in needle)


def _result(candidates: list[Choice]) -> MatchResult | None:
    if not candidates:
        return None
    if len(candidates) == 1:
        return MatchResult(choice=candidates[0])
    return MatchResult(ambiguous=candidates)


def match_choice(text: str, choices: Sequence[Choice]) -> MatchResult:
    """Find the option a typed answer means.

    Rules, first match wins:

    1. a number ``1..len(choices)`` picks that option; an out-of-range number picks
       nothing by position but may still match by the rules below (a label "2024");
    2. the words equal an option's label, or its label without a leading number
       ("1. Đồng ý" is answered by "đồng ý"); emoji and punctuation are ignored;
    3. the text equals an option's key;
    4. the words occur, whole and in order, in the labels of exactly one option;
       several options give an ambiguous result.

    One exception to the order: a number written as a word that is also exactly an
    option's label (a "Ba"/"Mẹ" menu answered "ba") picks the label, not position 3.
    """
    words = _words(text)
    if not words or not choices:
        return MatchResult()

    exact = [c for c in choices if any(words == form for form in _label_forms(c.label))]
    number = _read_number(text)
    if number is not None:
        value, in_digits = number
        if 1 <= value <= len(choices) and (in_digits or not exact):
            return MatchResult(choice=choices[value - 1])

    folded = fold(text)
    by_key = [c for c in choices if fold(c.key) == folded or _words(c.key) == words]
    contained = [c for c in choices if _is_subsequence(words, _words(c.label))]
    for candidates in (exact, by_key, contained):
        result = _result(candidates)
        if result is not None:
            return result
    return MatchResult()
