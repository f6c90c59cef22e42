"""The small-cell rule, checked on random polls: nothing under 5 is shown or computable.

Counts are drawn per leaf unit of a small tree and rolled up by ``build_results``;
the checks recompute the true numbers independently and read only what a viewer
sees (shown cells, row sizes, which cells are hidden).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Translator
from handlers.polls.results import (
    QuestionResult,
    Row,
    RowKind,
    build_results,
    results_text,
)
from storage.models import MIN_CELL, Poll, PollQuestion, QuestionKind, Unit
from storage.poll_results import PollCounts

WHEN = datetime(2026, 12, 1, tzinfo=UTC)
KINDS = [QuestionKind.SINGLE, QuestionKind.SCALE, QuestionKind.MULTI]


@dataclass
class Drawn:
    poll: Poll
    question: PollQuestion
    units: list[Unit]
    counts: PollCounts
    # leaf unit id -> (respondents, option -> count): the truth the checks compare to
    leaves: dict[int, tuple[int, dict[int, int]]]


def _tree(children: int, grandchildren: int) -> list[Unit]:
    """A viewer unit (id 1), its children, and some grandchildren under the first child."""
    units = [Unit(id=1, code="V", name="Đoàn trường", kind="school", path="/1/")]
    for i in range(children):
        units.append(
            Unit(
                id=10 + i,
                code=f"C{i}",
                name=f"Chi đoàn {i}",
                kind="b",
                parent_id=1,
                path=f"/1/{10 + i}/",
            )
        )
    for j in range(grandchildren if children else 0):
        units.append(
            Unit(
                id=100 + j,
                code=f"G{j}",
                name=f"Tổ {j}",
                kind="c",
                parent_id=10,
                path=f"/1/10/{100 + j}/",
            )
        )
    return units


@st.composite
def polls(draw: st.DrawFn, anonymous: bool = True) -> Drawn:
    kind = draw(st.sampled_from(KINDS))
    n_options = 5 if kind == QuestionKind.SCALE else draw(st.integers(2, 5))
    allow_other = kind != QuestionKind.SCALE and draw(st.booleans())
    labels = [f"Lựa chọn {i}" for i in range(1, n_options + 1)]
    question = PollQuestion(
        id=7,
        poll_id=1,
        position=1,
        kind=kind,
        text="Câu hỏi",
        options=[] if kind == QuestionKind.SCALE else labels,
        allow_other=allow_other,
    )
    width = n_options + (1 if allow_other else 0)
    units = _tree(draw(st.integers(0, 5)), draw(st.integers(0, 3)))
    counts = PollCounts()
    leaves: dict[int, tuple[int, dict[int, int]]] = {}
    # Small numbers dominate: that is where the rule matters.
    size = st.one_of(st.integers(0, 6), st.integers(0, 25))
    for unit in units:
        assert unit.id is not None
        n = draw(size)
        if n == 0:
            continue
        if kind == QuestionKind.MULTI:
            picked = {o: draw(st.integers(0, n)) for o in range(1, width + 1)}
        else:
            picked = dict.fromkeys(range(1, width + 1), 0)
            weights = draw(st.lists(st.integers(0, 3), min_size=width, max_size=width))
            for _ in range(n):  # each person picks exactly one option
                pool = [o for o in picked for _ in range(weights[o - 1] + 0)] or list(picked)
                picked[draw(st.sampled_from(pool))] += 1
        leaves[unit.id] = (n, picked)
        counts.respondents[(7, unit.id)] = n
        for option, c in picked.items():
            if c:
                counts.choices[(7, unit.id, option)] = c
    poll = Poll(
        id=1, unit_id=1, title="Khảo sát", anonymous=anonymous, opens_at=WHEN, closes_at=WHEN
    )
    return Drawn(poll, question, units, counts, leaves)


def _result(drawn: Drawn) -> QuestionResult:
    results = build_results(drawn.poll, [drawn.question], drawn.units, drawn.counts)
    return results.questions[0]


def _truth(drawn: Drawn, row: Row) -> tuple[int, list[int]]:
    """The row's real respondents and option counts, summed from the leaves."""
    paths = {u.id: u.path for u in drawn.units}
    inside = [
        leaf
        for leaf in drawn.leaves
        if any(
            (key == 1 and leaf == 1) or (key != 1 and paths[leaf].startswith(paths[key]))
            for key in row.unit_ids
        )
    ]
    n = sum(drawn.leaves[leaf][0] for leaf in inside)
    width = len(row.cells)
    return n, [sum(drawn.leaves[leaf][1].get(o, 0) for leaf in inside) for o in range(1, width + 1)]


def _candidates(unknown: list[tuple[int, int]], known: int) -> list[set[int]]:
    """For each hidden term (coefficient, upper bound), the values it could take.

    A reader knows each hidden cell lies in 1..bound and that the hidden terms add
    up to ``known``; this enumerates every consistent value, term by term.
    """
    found = []
    for j, (a_j, bound_j) in enumerate(unknown):
        reachable = {0}
        for i, (a, bound) in enumerate(unknown):
            if i != j:
                reachable = {s + a * v for s in reachable for v in range(1, bound + 1)}
        found.append({v for v in range(1, bound_j + 1) if known - a_j * v in reachable})
    return found


def _equations(result: QuestionResult, drawn: Drawn) -> list[list[tuple[int, int, int, int]]]:
    """(coefficient, bound, true value, hidden) terms of each equation a reader can write."""
    assert result.total is not None
    rows = [result.total, *result.rows]
    truths = [_truth(drawn, row) for row in rows]
    equations = []
    if drawn.question.kind != QuestionKind.MULTI:
        for row, (_, values) in zip(rows, truths, strict=True):
            equations.append(
                [(1, row.respondents, v, c.hidden) for c, v in zip(row.cells, values, strict=True)]
            )
    if result.rows:
        for o in range(len(result.total.cells)):
            equations.append(
                [
                    (1 if r == 0 else -1, row.respondents, truths[r][1][o], row.cells[o].hidden)
                    for r, row in enumerate(rows)
                ]
            )
    return equations


@settings(max_examples=300, deadline=None)
@given(polls())
def test_anonymous_results_never_show_or_leak_a_small_cell(drawn: Drawn) -> None:
    result = _result(drawn)
    everyone = sum(n for n, _ in drawn.leaves.values())
    if everyone < MIN_CELL:
        assert result.total is None and result.rows == ()
        return
    if result.total is None:
        # Only when even hiding every nonzero cell of the total would give one away.
        assert drawn.question.kind != QuestionKind.MULTI and result.too_few
        totals = [sum(picked.get(o, 0) for _, picked in drawn.leaves.values()) for o in range(1, 7)]
        unknown = [(1, everyone) for v in totals if v]
        assert any(len(v) < 2 for v in _candidates(unknown, everyone))
        return
    rows = [result.total, *result.rows]
    for row in rows:
        n, values = _truth(drawn, row)
        assert row.respondents == n >= MIN_CELL
        for cell, value in zip(row.cells, values, strict=True):
            if not cell.hidden:
                assert cell.count == value  # shown numbers are true...
                assert not 0 < value < MIN_CELL  # ...and never small
            else:
                assert value > 0  # a zero is shown as zero, never hidden
        if drawn.question.kind != QuestionKind.MULTI:
            assert sum(c.hidden for c in row.cells) != 1  # no row total minus the rest
        if drawn.question.kind == QuestionKind.SCALE and row.mean is not None:
            assert not any(c.hidden for c in row.cells)
            assert abs(row.mean - sum((o + 1) * v for o, v in enumerate(values)) / n) < 1e-9
    if result.rows:
        assert sum(r.respondents for r in result.rows) == result.total.respondents
        assert sum(r.kind == RowKind.MERGED for r in result.rows) <= 1
        for o in range(len(result.total.cells)):
            assert sum(row.cells[o].hidden for row in rows) != 1  # no total minus the others
    for terms in _equations(result, drawn):
        unknown = [(a, bound) for a, bound, _, hidden in terms if hidden]
        if not unknown:
            continue
        known = sum(a * value for a, _, value, hidden in terms if hidden)
        for values in _candidates(unknown, known):
            assert len(values) >= 2, f"a hidden cell can be worked out: {terms}"


@settings(max_examples=100, deadline=None)
@given(polls(anonymous=False))
def test_named_results_show_every_number(drawn: Drawn) -> None:
    result = _result(drawn)
    if not drawn.leaves:
        assert result.total is None and not result.too_few
        return
    assert result.total is not None
    for row in [result.total, *result.rows]:
        n, values = _truth(drawn, row)
        assert row.respondents == n
        assert [c.count for c in row.cells] == values
    if result.rows:
        assert sum(r.respondents for r in result.rows) == result.total.respondents
        assert all(r.kind != RowKind.MERGED for r in result.rows)


def _poll_with(sizes: dict[int, list[int]], kind: QuestionKind = QuestionKind.SINGLE) -> Drawn:
    """Children 10, 11, ... with these option counts (one option each: respondents = sum)."""
    units = _tree(len(sizes), 0)
    counts = PollCounts()
    leaves = {}
    for unit_id, picked in sizes.items():
        counts.respondents[(7, unit_id)] = sum(picked)
        for option, c in enumerate(picked, start=1):
            if c:
                counts.choices[(7, unit_id, option)] = c
        leaves[unit_id] = (sum(picked), dict(enumerate(picked, start=1)))
    options = ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]
    question = PollQuestion(
        id=7, poll_id=1, position=1, kind=kind, text="Bạn hài lòng không?", options=options
    )
    poll = Poll(id=1, unit_id=1, title="Khảo sát", anonymous=True, opens_at=WHEN, closes_at=WHEN)
    return Drawn(poll, question, units, counts, leaves)


def test_small_units_merge_until_the_merged_row_is_big_enough() -> None:
    # Chi đoàn 0 has 3 answers: alone it would be a hidden row, computable as total − others.
    drawn = _poll_with({10: [2, 1, 0], 11: [4, 3, 0], 12: [10, 8, 2], 13: [12, 9, 9]})
    result = _result(drawn)
    rows = [(r.kind, r.name, r.respondents) for r in result.rows]
    assert rows == [
        (RowKind.UNIT, "Chi đoàn 2", 20),
        (RowKind.UNIT, "Chi đoàn 3", 30),
        (RowKind.MERGED, "", 10),  # 3 + the next smallest, 7
    ]


def test_the_chat_summary_shows_no_small_number() -> None:
    drawn = _poll_with({10: [20, 3, 0], 11: [9, 0, 6]})
    results = build_results(drawn.poll, [drawn.question], drawn.units, drawn.counts)
    text = results_text(results, Translator("vi"))
    assert "• Rất hài lòng: 29 (76%)" in text
    # 3 "Hài lòng" is hidden; so is the 6, or the 3 would be 38 − 29 − 6.
    assert "• Hài lòng: ẩn" in text
    assert "• Chưa hài lòng: ẩn" in text
    assert "«ẩn»: dưới 5 câu trả lời" in text
    english = results_text(results, Translator("en"))
    assert "• Hài lòng: hidden" in english and "• Chưa hài lòng: hidden" in english


def test_no_note_about_hidden_cells_when_the_summary_hides_none() -> None:
    # Chi đoàn 0's 3 is hidden in the breakdown (the workbook), not in the total of 9.
    drawn = _poll_with({10: [20, 3, 0], 11: [9, 6, 0]})
    results = build_results(drawn.poll, [drawn.question], drawn.units, drawn.counts)
    assert any(c.hidden for row in results.questions[0].rows for c in row.cells)
    text = results_text(results, Translator("vi"))
    assert "• Hài lòng: 9 (24%)" in text and ": ẩn" not in text and "«ẩn»" not in text


def test_too_few_answers_show_nothing_but_a_note() -> None:
    drawn = _poll_with({10: [2, 1, 0], 11: [1, 0, 0]})
    results = build_results(drawn.poll, [drawn.question], drawn.units, drawn.counts)
    assert results.questions[0].total is None and results.questions[0].too_few
    text = results_text(results, Translator("vi"))
    assert "Chưa hiển thị: quá ít câu trả lời để giữ ẩn danh (cần từ 5 người trở lên)." in text
    assert "Rất hài lòng" not in text


def test_scale_mean_only_when_nothing_is_hidden() -> None:
    drawn = _poll_with({10: [0, 0, 10, 10, 10]}, QuestionKind.SCALE)
    result = _result(drawn)
    assert result.total is not None and result.total.mean == 4.0
    text = results_text(
        build_results(drawn.poll, [drawn.question], drawn.units, drawn.counts), Translator("vi")
    )
    assert "Điểm trung bình: 4,0/5" in text
    assert text.index("Mức 5") < text.index("Mức 1")  # best mark first
    one_low = _poll_with({10: [1, 0, 10, 10, 10]}, QuestionKind.SCALE)
    low = _result(one_low)
    assert low.total is not None and low.total.mean is None  # the mean would give the 1 away
