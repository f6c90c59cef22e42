"""The words young people use most in free-text answers, read the Vietnamese way."""

from __future__ import annotations

import unicodedata

from handlers.polls.words import clauses, top_terms

WISHES = [
    "Em mong có thêm học bổng cho sinh viên nghèo.",
    "Cần hỗ trợ việc làm sau khi ra trường",
    "Học bổng và việc làm thêm cho sinh viên",
    "Muốn có câu lạc bộ tiếng Anh, câu lạc bộ kỹ năng",
    "Việc làm, việc làm, việc làm!!!",
    "Hỗ trợ việc làm cho thanh niên nông thôn",
    "Nhà ở cho công nhân trẻ",
    "Sức khoẻ tâm lý, áp lực học tập",
    "sức khỏe tâm lý của sinh viên",
    "Có câu lạc bộ thể thao ở trường",
    "Em muốn được hỗ trợ việc làm thêm",
    "Tăng học bổng khuyến khích học tập",
    "Nhà ở xã hội cho công nhân",
]


def test_two_syllable_words_are_counted_once_per_answer() -> None:
    terms = dict(top_terms(WISHES, limit=8))
    # Five answers speak of jobs; the one saying it three times counts once.
    assert terms["việc làm"] == 5
    assert terms["học bổng"] == 3
    assert terms["hỗ trợ"] == 3
    assert terms["nhà ở"] == 2
    assert terms["câu lạc bộ"] == 2  # a three-syllable word, kept whole
    # The parts of those words are not counted again on their own.
    assert not {"việc", "làm", "học", "bổng", "lạc", "bộ", "câu"} & set(terms)


def test_stop_words_and_fragments_are_left_out() -> None:
    terms = [term for term, _ in top_terms(WISHES, limit=50)]
    for word in ("em", "có", "cho", "và", "của", "cần", "muốn", "mong", "được", "thêm", "ở"):
        assert word not in terms
    # "hỗ trợ việc làm" is two words, not "hỗ trợ việc" + "làm".
    assert "hỗ trợ việc" not in terms and "trợ việc làm" not in terms


def test_the_two_ways_of_placing_tone_marks_are_one_word() -> None:
    terms = dict(top_terms(WISHES))
    assert terms["sức khỏe"] == 2  # "khoẻ" and "khỏe"
    assert clauses("Thuỷ lợi, hoà bình") == [["thủy", "lợi"], ["hòa", "bình"]]
    assert clauses("Quý của mùa") == [["quý", "của", "mùa"]]  # nothing to move here


def test_decomposed_and_capitalised_input_reads_the_same() -> None:
    decomposed = [unicodedata.normalize("NFD", text.upper()) for text in WISHES]
    assert top_terms(decomposed) == top_terms(WISHES)


def test_answers_typed_without_diacritics() -> None:
    texts = ["em muon co viec lam", "can viec lam on dinh", "khong co viec lam"]
    assert top_terms(texts, limit=1) == [("viec lam", 3)]


def test_a_phrase_needs_two_answers_and_min_count_hides_rare_words() -> None:
    texts = ["Phí gửi xe cao", "Lương thấp", "Lương thấp quá", "Thiếu sân chơi"]
    terms = dict(top_terms(texts))
    assert terms["lương thấp"] == 2
    assert "gửi xe" not in terms and terms["xe"] == 1  # said once: just syllables
    # An anonymous poll asks for MIN_CELL: a word only a few people used could point at them.
    assert top_terms(texts, min_count=2) == [("lương thấp", 2)]
    assert top_terms(texts, min_count=5) == []


def test_limit_and_order() -> None:
    terms = top_terms(WISHES, limit=3)
    assert [term for term, _ in terms] == ["việc làm", "học bổng", "hỗ trợ"]  # ties: a to z
    assert top_terms([]) == [] and top_terms(["", "  ", "..."]) == []
