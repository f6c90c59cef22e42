"""The words people use most in free-text answers, Vietnamese-aware.

Vietnamese writes a word as one to three syllables separated by spaces ("việc làm",
"học bổng", "câu lạc bộ"), so counting single syllables would split most words.
Two- and three-syllable phrases seen in several answers are found first and each
answer is read with the longest, most used phrases taking their syllables; what is
left is counted as single syllables. Counts are answers, not uses: one person
repeating a word counts once.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Never meaningful on their own nor inside a phrase (pronouns, particles, linking words).
STOP_WORDS = _words(
    """
    à á ạ ai anh ấy bà bạn bởi các cái cả càng cháu chị cho chỉ chiếc chính chúng chưa
    có còn của cùng cũng dạ đã đang đây để đến đều điều đó được gì hay hãy hơn họ khi
    không là lại lắm mà mình mới một nào nay này nên nếu nhé nhỉ nhiều như những nữa ơi
    ông phải qua quá rằng rất rồi sao sẽ so sự tại tôi thì thế theo thôi thưa trên từ
    và vào vẫn về vì với vâng em hoặc hết luôn mong muốn cần nhất bị chứ kia ta tớ tụi
    tao mày nó cậu ừ ờ ok nhưng vậy hơi khá đâu chẳng chả gồm tuy dù nhờ giúp
    """
    # How they are typed in chat: shorthand, and without diacritics where the bare
    # spelling is not itself a common word ("chi" of "chi đoàn" is, so "chị" is not here).
    """
    ko k kh hok khg dc đc mk mik vs cx nx j r thui e a
    va cua la co khong duoc cho cac nhung mot minh toi thi voi de nay rat cung nhu nen
    neu vao ve vi dang da se roi nhieu muon mong can
    """
)

#: Meaningless alone but part of common words ("nhà ở", "việc làm", "làm thêm").
BOUND_SYLLABLES = _words("ở làm ra lên xuống trong ngoài trước sau người thêm đi")

_LETTERS = re.compile(r"[^\W\d_]+")
# Punctuation and line breaks end a phrase: a word never spans them.
_CLAUSES = re.compile(r"[^\w\s]+|\n|\d+")
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
# Old and new tone placement ("hoà"/"hòa", "khoẻ"/"khỏe", "thuỷ"/"thủy"): one spelling.
_NEW_STYLE = re.compile(rf"^(.*?)(o(?=[ae])|(?<!q)u(?=y))([aey])([{_TONES}])$")
MAX_PHRASE = 3


def normalise(text: str) -> str:
    """Lower case, composed (NFC) Vietnamese."""
    return unicodedata.normalize("NFC", text).lower()


@lru_cache(maxsize=1 << 16)
def _syllable(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    match = _NEW_STYLE.match(decomposed)
    if match:
        head, first, second, tone = match.groups()
        decomposed = f"{head}{first}{tone}{second}"
    return unicodedata.normalize("NFC", decomposed)


def clauses(text: str) -> list[list[str]]:
    """The answer's syllables, in runs not broken by punctuation."""
    runs = []
    for clause in _CLAUSES.split(normalise(text)):
        syllables = [_syllable(s) for s in _LETTERS.findall(clause)]
        if syllables:
            runs.append(syllables)
    return runs


def _chunks(text: str) -> list[tuple[str, ...]]:
    """The answer's runs of meaningful syllables: a phrase never spans a stop word."""
    chunks = []
    for run in clauses(text):
        chunk: list[str] = []
        for word in [*run, ""]:
            if word and word not in STOP_WORDS:
                chunk.append(word)
            elif chunk:
                chunks.append(tuple(chunk))
                chunk = []
    return chunks


def _is_term(word: str) -> bool:
    return word not in BOUND_SYLLABLES and len(word) > 1


def _grams(chunk: tuple[str, ...], size: int) -> Iterable[tuple[int, tuple[str, ...]]]:
    return ((start, chunk[start : start + size]) for start in range(len(chunk) - size + 1))


def _read(chunk: tuple[str, ...], phrases: dict[tuple[str, ...], int]) -> frozenset[str]:
    """The terms of one chunk: the best phrases first, then the syllables left over."""
    taken = [False] * len(chunk)
    spots = [
        (phrases[words], size, start)
        for size in range(MAX_PHRASE, 1, -1)
        for start, words in _grams(chunk, size)
        if words in phrases
    ]
    found = set()
    # Most used first, then longest, then leftmost.
    for _, size, start in sorted(spots, key=lambda s: (-s[0], -s[1], s[2])):
        if not any(taken[start : start + size]):
            taken[start : start + size] = [True] * size
            found.add(" ".join(chunk[start : start + size]))
    found.update(w for w, used in zip(chunk, taken, strict=True) if not used and _is_term(w))
    return frozenset(found)


def _count(
    answers: list[list[tuple[str, ...]]], phrases: dict[tuple[str, ...], int]
) -> Counter[str]:
    """In how many answers each term is found (chunks repeat: each is read once)."""
    read: dict[tuple[str, ...], frozenset[str]] = {}
    counts: Counter[str] = Counter()
    for chunks in answers:
        terms: set[str] = set()
        for chunk in chunks:
            if chunk not in read:
                read[chunk] = _read(chunk, phrases)
            terms |= read[chunk]
        counts.update(terms)
    return counts


def top_terms(texts: list[str], limit: int = 10, min_count: int = 1) -> list[tuple[str, int]]:
    """The ``limit`` terms found in most answers, with how many answers use each.

    Only terms used in at least ``min_count`` answers are given (an anonymous poll
    passes ``MIN_CELL``: a rare word could point at its writer). A phrase must be in
    at least two answers to count as one.
    """
    answers = [_chunks(text) for text in texts]
    floor = max(2, min_count)
    phrases = _candidates(answers, floor)
    counts: Counter[str] = Counter()
    # A phrase that lost its answers to better ones is dropped and the answers re-read.
    for _ in range(5):
        counts = _count(answers, phrases)
        weak = [w for w in phrases if counts[" ".join(w)] < floor]
        if not weak:
            break
        for words in weak:
            del phrases[words]
    ranked = sorted(counts.items(), key=lambda item: (-item[1], -item[0].count(" "), item[0]))
    return [(term, n) for term, n in ranked if n >= min_count][:limit]


def _candidates(answers: list[list[tuple[str, ...]]], floor: int) -> dict[tuple[str, ...], int]:
    """Phrases in at least ``floor`` answers, with the number of answers using each.

    A three-syllable phrase must hold most uses of both its two-syllable parts
    ("câu lạc bộ", not "học bổng sinh" from "học bổng sinh viên") and must not sit next
    to the same syllable in three uses out of four: "hỗ trợ việc" followed by "làm" is
    a piece of "hỗ trợ" + "việc làm", not a word. (A stop word next to it is a
    boundary, not part of a longer word: chunks end there.)
    """
    seen: Counter[tuple[str, ...]] = Counter()
    uses: Counter[tuple[str, ...]] = Counter()
    sides: dict[tuple[tuple[str, ...], int], Counter[str]] = defaultdict(Counter)
    for chunks in answers:
        seen.update(
            {
                words
                for chunk in chunks
                for size in range(2, MAX_PHRASE + 1)
                for _, words in _grams(chunk, size)
            }
        )
        for chunk in chunks:
            for start, words in _grams(chunk, MAX_PHRASE):
                uses[words] += 1
                if start > 0:
                    sides[(words, -1)][chunk[start - 1]] += 1
                if start + MAX_PHRASE < len(chunk):
                    sides[(words, 1)][chunk[start + MAX_PHRASE]] += 1

    def whole(words: tuple[str, ...]) -> bool:
        if len(words) < MAX_PHRASE:
            return True
        if any(2 * seen[words] <= seen[part] for part in (words[:-1], words[1:])):
            return False
        return all(
            4 * max(sides[(words, side)].values(), default=0) < 3 * uses[words] for side in (-1, 1)
        )

    return {words: n for words, n in seen.items() if n >= floor and whole(words)}
