"""Poll results from the database: grouped counts, written answers, answers by name.

Rows are inserted directly (as the answering flow stores them) and read back on
SQLite and, with DOANBOT_TEST_DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import Translator
from handlers.polls.results import RowKind, build_results, results_text
from storage.db import Database
from storage.models import (
    Person,
    Poll,
    PollChoice,
    PollQuestion,
    PollRecipient,
    PollResponse,
    PollStatus,
    QuestionKind,
    Unit,
)
from storage.poll_results import (
    Participation,
    PollCounts,
    load_counts,
    load_raw_answers,
    load_texts,
)
from storage.uow import UnitOfWork, unit_of_work

OPENS = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
ANSWERED = datetime(2026, 12, 2, 13, 30, tzinfo=UTC)  # 20:30 in Hồ Chí Minh City


async def _tree(uow: UnitOfWork) -> dict[str, Unit]:
    units = uow.units
    province = await units.add("T", "Tỉnh đoàn An Phú", "province", None)
    a = await units.add("A", "Đoàn xã A", "grassroots", province)
    a1 = await units.add("A1", "Chi đoàn A1", "branch", a)
    a2 = await units.add("A2", "Chi đoàn A2", "branch", a)
    b = await units.add("B", "Đoàn xã B", "grassroots", province)
    b1 = await units.add("B1", "Chi đoàn B1", "branch", b)
    return {"T": province, "A": a, "A1": a1, "A2": a2, "B": b, "B1": b1}


async def _poll(
    uow: UnitOfWork, owner: Unit, *, anonymous: bool
) -> tuple[Poll, list[PollQuestion]]:
    assert owner.id is not None
    poll = Poll(
        unit_id=owner.id,
        title="Tâm tư thanh niên 2026",
        anonymous=anonymous,
        opens_at=OPENS,
        closes_at=OPENS + timedelta(days=14),
        status=PollStatus.OPEN,
    )
    uow.session.add(poll)
    await uow.session.flush()
    assert poll.id is not None
    questions = [
        PollQuestion(
            poll_id=poll.id,
            position=1,
            kind=QuestionKind.SINGLE,
            text="Bạn cần gì nhất?",
            options=["Việc làm", "Học bổng"],
            allow_other=True,
        ),
        PollQuestion(
            poll_id=poll.id,
            position=2,
            kind=QuestionKind.MULTI,
            text="Bạn muốn tham gia hoạt động nào?",
            options=["Tình nguyện", "Thể thao", "Kỹ năng"],
        ),
        PollQuestion(poll_id=poll.id, position=3, kind=QuestionKind.SCALE, text="Hài lòng?"),
        PollQuestion(poll_id=poll.id, position=4, kind=QuestionKind.TEXT, text="Góp ý"),
    ]
    uow.session.add_all(questions)
    await uow.session.flush()
    return poll, questions


async def _answer(
    uow: UnitOfWork,
    poll: Poll,
    question: PollQuestion,
    person: Person,
    unit: Unit,
    options: Sequence[int] = (),
    text: str | None = None,
) -> None:
    """Store an answer the way the answering flow does (no name, no time if anonymous)."""
    assert question.id is not None and poll.id is not None and unit.id is not None
    who = f"a{person.id:040d}" if poll.anonymous else f"p{person.id}"
    uow.session.add(
        PollResponse(
            question_id=question.id,
            respondent=who,
            poll_id=poll.id,
            unit_id=unit.id,
            person_id=None if poll.anonymous else person.id,
            text=text,
            answered_at=None if poll.anonymous else ANSWERED,
        )
    )
    await uow.session.flush()
    for option in options:
        uow.session.add(
            PollChoice(question_id=question.id, respondent=who, option=option, unit_id=unit.id)
        )
    await uow.session.flush()


async def _people(uow: UnitOfWork, names: Sequence[str]) -> list[Person]:
    people = [Person(full_name=name) for name in names]
    uow.session.add_all(people)
    await uow.session.flush()
    return people


def _recipient(poll: Poll, person: Person, unit: Unit, **flags: bool) -> PollRecipient:
    assert poll.id is not None and person.id is not None and unit.id is not None
    return PollRecipient(poll_id=poll.id, person_id=person.id, unit_id=unit.id, **flags)


async def test_counts_are_grouped_by_leaf_unit_and_poll(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with unit_of_work(db) as uow:
            u = await _tree(uow)
            poll, (single, multi, scale, text) = await _poll(uow, u["T"], anonymous=True)
            other_poll, other_questions = await _poll(uow, u["T"], anonymous=True)
            people = await _people(uow, [f"Người {i}" for i in range(8)])
            a1, a2, b1 = u["A1"], u["A2"], u["B1"]
            homes = [a1, a1, a1, a2, a2, b1, b1, b1]
            uow.session.add_all(
                [
                    _recipient(poll, people[0], a1, answered=True),
                    _recipient(poll, people[1], a1, answered=True),
                    _recipient(poll, people[2], a1, answered=True, unreachable=True),
                    _recipient(poll, people[3], a2, answered=True),
                    _recipient(poll, people[4], a2, unreachable=True),
                    _recipient(poll, people[5], b1, answered=True),
                    _recipient(poll, people[6], b1),
                    _recipient(poll, people[7], b1, unreachable=True),
                    _recipient(other_poll, people[0], a1, answered=True),
                ]
            )
            picks = {0: 1, 1: 1, 2: 3, 3: 2, 5: 1}  # person -> option of the single question
            for i, option in picks.items():
                other = "Nhà ở cho công nhân" if option == 3 else None
                await _answer(uow, poll, single, people[i], homes[i], [option], other)
                await _answer(uow, poll, multi, people[i], homes[i], [1, 3] if i < 3 else [2])
                await _answer(uow, poll, scale, people[i], homes[i], [5 - i % 2])
            await _answer(uow, poll, text, people[0], a1, text="Cần thêm sân bóng")
            await _answer(uow, poll, text, people[3], a2, text="  ")
            await _answer(uow, other_poll, other_questions[0], people[0], a1, [2])
            await uow.commit()
            assert poll.id is not None

        async with unit_of_work(db) as uow:
            counts = await load_counts(uow.session, poll.id)
            texts = await load_texts(uow.session, text.id or 0)
            others = await load_texts(uow.session, single.id or 0)

        assert single.id and multi.id and a1.id and a2.id and b1.id
        assert counts.choices[(single.id, a1.id, 1)] == 2
        assert counts.choices[(single.id, a1.id, 3)] == 1  # "other", written in
        assert counts.choices[(single.id, a2.id, 2)] == 1
        assert counts.choices[(single.id, b1.id, 1)] == 1  # the other poll's answer is not here
        assert sum(n for (q, _, _), n in counts.choices.items() if q == single.id) == 5
        assert counts.choices[(multi.id, a1.id, 1)] == counts.choices[(multi.id, a1.id, 3)] == 3
        assert counts.respondents[(multi.id, a1.id)] == 3  # people, not ticks
        assert counts.respondents[(single.id, b1.id)] == 1
        assert counts.participation == {
            a1.id: Participation(targeted=3, reached=3, answered=3),  # answered: reached
            a2.id: Participation(targeted=2, reached=1, answered=1),
            b1.id: Participation(targeted=3, reached=2, answered=1),
        }
        assert [(t.unit_id, t.text, t.person_id, t.answered_at) for t in texts] == [
            (a1.id, "Cần thêm sân bóng", None, None)  # blank answers are left out
        ]
        assert [t.text for t in others] == ["Nhà ở cho công nhân"]
    finally:
        await db.dispose()


async def test_named_poll_lists_answers_by_name_and_anonymous_refuses(database_url: str) -> None:
    db = Database(database_url)
    try:
        async with unit_of_work(db) as uow:
            u = await _tree(uow)
            poll, (single, multi, _scale, text) = await _poll(uow, u["A"], anonymous=False)
            secret, _ = await _poll(uow, u["A"], anonymous=True)
            lan, minh = await _people(uow, ["Trần Thị Lan", "Lê Văn Minh"])
            await _answer(uow, poll, single, minh, u["A2"], [3], "Nhà ở xã hội")
            await _answer(uow, poll, single, lan, u["A1"], [1])
            await _answer(uow, poll, multi, lan, u["A1"], [3, 1])
            await _answer(uow, poll, text, minh, u["A2"], text="Cảm ơn đoàn")
            await uow.commit()

        async with unit_of_work(db) as uow:
            raw = await load_raw_answers(uow.session, poll)
            with pytest.raises(ValueError, match="anonymous"):
                await load_raw_answers(uow.session, secret)
            texts = await load_texts(uow.session, text.id or 0)

        assert [(r.person_name, r.unit_name, r.question_id, r.options, r.text) for r in raw] == [
            ("Lê Văn Minh", "Chi đoàn A2", single.id, (3,), "Nhà ở xã hội"),
            ("Trần Thị Lan", "Chi đoàn A1", single.id, (1,), None),
            ("Trần Thị Lan", "Chi đoàn A1", multi.id, (1, 3), None),
            ("Lê Văn Minh", "Chi đoàn A2", text.id, (), "Cảm ơn đoàn"),
        ]
        assert all(r.answered_at == ANSWERED for r in raw)
        assert [(t.person_id, t.answered_at) for t in texts] == [(minh.id, ANSWERED)]
    finally:
        await db.dispose()


async def test_province_view_rolls_branches_up_to_districts(database_url: str) -> None:
    """From the database to the text a province secretary reads."""
    db = Database(database_url)
    try:
        async with unit_of_work(db) as uow:
            u = await _tree(uow)
            poll, questions = await _poll(uow, u["T"], anonymous=True)
            people = await _people(uow, [f"Đoàn viên {i}" for i in range(14)])
            # 6 in A1 and 2 in A2 (district A: 8), 4 in B1, 2 at the province itself.
            homes = [u["A1"]] * 6 + [u["A2"]] * 2 + [u["B1"]] * 4 + [u["T"]] * 2
            for person, home in zip(people, homes, strict=True):
                uow.session.add(_recipient(poll, person, home, answered=True))
                await _answer(uow, poll, questions[0], person, home, [1])
            outsider = (await _people(uow, ["Ngoài tỉnh"]))[0]
            uow.session.add(_recipient(poll, outsider, u["B1"], unreachable=True))
            await uow.commit()
            subtree = list(await uow.units.subtree(u["T"]))
            counts = await load_counts(uow.session, poll.id or 0)
    finally:
        await db.dispose()

    results = build_results(poll, questions, subtree, counts)
    first = results.questions[0]
    assert first.total is not None and first.total.respondents == 14
    rows = {(r.kind, r.name): r.respondents for r in first.rows}
    # B (4) and the province's own 2 are each too small: they are merged into one row.
    assert rows == {(RowKind.UNIT, "Đoàn xã A"): 8, (RowKind.MERGED, ""): 6}
    text = results_text(results, Translator("vi"))
    assert "Đã trả lời 14/15 người nhận (93%), 1 chưa liên lạc được" in text
    assert "• Việc làm: 14 (100%)" in text
    assert "• Đoàn xã B: 4/5 (80%), 1 chưa liên lạc được" in text


def _flat_results(branches: int) -> tuple[Poll, list[Unit], PollCounts]:
    """A school union with ``branches`` branches; branch i asked 10 people, i+1 answered."""
    units = [Unit(id=1, code="S", name="Đoàn trường", kind="school", path="/1/")]
    counts = PollCounts()
    for i in range(branches):
        unit_id = 10 + i
        units.append(
            Unit(
                id=unit_id,
                code=f"B{i}",
                name=f"Chi đoàn {i + 1:02d}",
                kind="branch",
                parent_id=1,
                path=f"/1/{unit_id}/",
            )
        )
        counts.participation[unit_id] = Participation(10, 10, min(i + 1, 10))
        counts.respondents[(4, unit_id)] = min(i + 1, 10)
    poll = Poll(
        id=1,
        unit_id=1,
        title="Góp ý cuối năm",
        anonymous=True,
        opens_at=OPENS,
        closes_at=OPENS + timedelta(days=14),
    )
    return poll, units, counts


def test_summary_lists_the_slowest_units_first_and_counts_the_rest() -> None:
    poll, units, counts = _flat_results(12)
    question = PollQuestion(id=4, poll_id=1, position=1, kind=QuestionKind.TEXT, text="Góp ý")
    results = build_results(poll, [question], units, counts)
    terms = {4: [("việc làm", 12), ("học bổng", 7)]}
    text = results_text(results, Translator("vi"), terms)
    lines = text.splitlines()
    assert lines[0] == "📊 Kết quả khảo sát: Góp ý cuối năm"
    assert lines[1] == "Đoàn trường · 01/12/2026 – 15/12/2026 · ẩn danh"
    # 62.5% is written 63%; everyone was reached, so nothing about the unreached.
    assert lines[2] == "Đã trả lời 75/120 người nhận (63%)"
    assert "❓ Câu 1. Góp ý (75 người trả lời)" in lines
    assert "Được nhắc nhiều: việc làm (12), học bổng (7)" in lines
    rates = lines[lines.index("Tỉ lệ trả lời theo đơn vị:") + 1 :]
    assert rates[0] == "• Chi đoàn 01: 1/10 (10%)"  # the one to nudge comes first
    assert len(rates) == 11 and rates[-1] == "… và 2 đơn vị khác"
    english = results_text(results, Translator("en"), terms)
    assert "75 of 120 recipients answered (63%)" in english
    assert "… and 2 more units" in english
