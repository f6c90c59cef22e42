"""Answering polls in process, on Telegram (buttons, toggles) and Zalo (numbers, words)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.app import App
from handlers.polls.service import store_poll
from handlers.polls.spec import PollSpec, QuestionSpec
from scheduler.polls import close_due_polls, nudge_polls, open_due_polls
from storage.models import (
    InboxEvent,
    OutboxMessage,
    PollChoice,
    PollRecipient,
    PollResponse,
    QuestionKind,
)
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_flows import joined
from tests.test_join_flow import seed

QUESTIONS = [
    QuestionSpec(
        text="Điều bạn quan tâm nhất hiện nay?",
        kind=QuestionKind.SINGLE,
        options=["Việc làm", "Học tập", "Nhà ở"],
        other=True,
    ),
    QuestionSpec(
        text="Bạn muốn Đoàn tổ chức hoạt động nào?",
        kind=QuestionKind.MULTI,
        options=["Thể thao", "Tình nguyện", "Kỹ năng số", "Văn nghệ"],
    ),
    QuestionSpec(text="Mức độ hài lòng với chi đoàn?", kind=QuestionKind.SCALE),
    QuestionSpec(text="Góp ý thêm", kind=QuestionKind.TEXT, required=False),
]


async def make_poll(app: App, clock: MovableClock, *, anonymous: bool = True, days: int = 7) -> int:
    spec = PollSpec(
        title="Tâm tư đoàn viên quý IV",
        unit="AP-PT",
        closes_at=clock() + timedelta(days=days),
        anonymous=anonymous,
        questions=QUESTIONS,
    )
    async with unit_of_work(app.db) as uow:
        poll = await store_poll(uow, spec, now=clock(), created_by=None)
        await uow.commit()
    assert poll.id is not None
    await open_due_polls(app.db, app.settings, clock)
    await app.sender.drain()
    return poll.id


async def members(app: App, clock: MovableClock) -> tuple[Chat, Chat]:
    codes = await seed(app, clock)
    tg = Chat(app, app.channels["telegram"], "8101")  # type: ignore[arg-type]
    zl = Chat(app, app.channels["zalo"], "zp_8102")  # type: ignore[arg-type]
    await joined(tg, codes["AP-PT-A1/member"], "Lê Văn Nam")
    await joined(zl, codes["AP-PT-A2/member"], "Trần Thị Bình")
    return tg, zl


def fresh(chat: Chat) -> str:
    mine = [o for o in chat.channel.delivered if o.chat_id == chat.chat_id]
    new, chat.seen = mine[chat.seen :], len(mine)
    return texts(new)


async def rows(app: App, model: type) -> list:
    async with unit_of_work(app.db) as uow:
        return list((await uow.session.exec(select(model))).all())


async def test_telegram_member_answers_with_buttons_and_toggles(
    app: App, clock: MovableClock
) -> None:
    tg, _ = await members(app, clock)
    await make_poll(app, clock)
    invitation = fresh(tg)
    assert "Khảo sát mới" in invitation and "Ẩn danh" in invitation

    out = await tg.presses("Trả lời ngay", on=tg.last_question())
    assert "Câu 1/4" in texts(out)
    await tg.presses("Học tập")
    question = tg.last_question()
    assert "Câu 2/4" in question.text and "☐ Thể thao" in [c.label for c in question.choices]
    out = await tg.presses("Tình nguyện")
    toggled = [o for o in out if o.kind == "edit"]
    assert toggled and "☑ Tình nguyện" in [c.label for c in toggled[-1].choices]
    await tg.presses("Kỹ năng số", on=toggled[-1])
    out = await tg.presses("Xong", on=tg.last_question())
    assert "Tình nguyện, Kỹ năng số" in texts(out)
    assert "Câu 3/4" in texts(out)
    await tg.presses("4")
    out = await tg.says("Cần thêm sân chơi cho thanh niên")
    assert "Cảm ơn bạn" in texts(out)

    responses = await rows(app, PollResponse)
    assert len(responses) == 4
    assert all(r.person_id is None and r.answered_at is None for r in responses)
    assert all(r.respondent.startswith("a") for r in responses)  # a keyed hash, not an id
    picks = sorted(c.option for c in await rows(app, PollChoice))
    assert picks == [2, 2, 3, 4]  # Học tập; Tình nguyện + Kỹ năng số; 4 on the scale
    recipient = [r for r in await rows(app, PollRecipient) if r.answered]
    assert len(recipient) == 1


async def test_zalo_member_answers_by_number_words_and_list(app: App, clock: MovableClock) -> None:
    _, zl = await members(app, clock)
    await make_poll(app, clock)
    invitation = fresh(zl)
    assert "khao sat" in invitation  # Zalo says in words how to answer
    out = await zl.says("khao sat")
    assert "1. Việc làm" in texts(out)
    out = await zl.says("viec lam")  # the option's words without diacritics
    assert "Câu 2/4" in texts(out) and "1,3" in texts(out)
    out = await zl.says("bảy tám")  # nonsense: asked again, nothing stored for it
    assert "chưa hiểu" in texts(out) and "Câu 2/4" in texts(out)
    out = await zl.says("2, 4")
    assert "Câu 3/4" in texts(out)
    out = await zl.says("năm")
    assert "Câu 4/4" in texts(out)
    out = await zl.says("Bỏ qua")
    assert "Cảm ơn bạn" in texts(out)
    assert sorted(c.option for c in await rows(app, PollChoice)) == [1, 2, 4, 5]
    assert len(await rows(app, PollResponse)) == 4  # the skipped text counts as answered


async def test_changing_an_answer_keeps_one_per_question(app: App, clock: MovableClock) -> None:
    _, zl = await members(app, clock)
    await make_poll(app, clock)
    for text in ("khao sat", "1", "1", "3", "Bỏ qua"):
        await zl.says(text)
    out = await zl.says("/khaosat")
    assert "Bạn đã trả lời" in texts(out) and "Việc làm" in texts(out)
    await zl.says("Sửa câu 1")
    out = await zl.says("Khác (tự ghi)")
    assert "ghi rõ" in texts(out)
    out = await zl.says("Chăm sóc cha mẹ già")
    assert "Khác: Chăm sóc cha mẹ già" in texts(out)
    out = await zl.says("Xong, giữ nguyên")
    assert "Đã lưu" in texts(out)
    responses = await rows(app, PollResponse)
    first = [r for r in responses if r.text == "Chăm sóc cha mẹ già"]
    assert len(responses) == 4 and len(first) == 1
    assert sorted(c.option for c in await rows(app, PollChoice)) == [1, 3, 4]  # other = 4


async def test_late_answer_and_stale_button(app: App, clock: MovableClock) -> None:
    tg, zl = await members(app, clock)
    await make_poll(app, clock, days=2)
    fresh(tg)
    invitation = tg.last_question()
    await tg.presses("Trả lời ngay", on=invitation)
    first_question = tg.last_question()
    await tg.presses("Việc làm")
    out = await tg.presses("Nhà ở", on=first_question)  # an old question's button
    assert "cũ" in texts(out) or any("cũ" in o.text for o in out if o.kind == "answer")

    clock.advance(days=2, minutes=-10)  # ten minutes before the deadline
    await zl.says("khao sat")
    clock.advance(minutes=15)
    await close_due_polls(app.db, app.settings, clock)
    out = await zl.says("1")  # answering the open question after the deadline
    assert "đã đóng" in texts(out)
    out = await tg.presses("Trả lời ngay", on=invitation)
    assert any("đã đóng" in o.text for o in out)
    assert all(r.question_id for r in await rows(app, PollResponse))
    assert len(await rows(app, PollResponse)) == 1  # only the answer given in time


async def test_nudges_reach_only_those_who_have_not_answered(app: App, clock: MovableClock) -> None:
    tg, zl = await members(app, clock)
    await make_poll(app, clock, days=4)
    fresh(tg), fresh(zl)
    for text in ("khao sat", "1", "1", "3", "Bỏ qua"):
        await zl.says(text)
    fresh(zl)
    clock.advance(days=2, minutes=1)  # halfway
    await nudge_polls(app.db, app.settings, clock)
    await app.sender.drain()
    assert "chưa trả lời khảo sát" in fresh(tg)
    assert fresh(zl) == ""
    await nudge_polls(app.db, app.settings, clock)  # a repeated tick sends nothing more
    await app.sender.drain()
    assert fresh(tg) == ""
    clock.advance(days=1, hours=1)  # less than a day before the deadline
    await nudge_polls(app.db, app.settings, clock)
    await app.sender.drain()
    assert "chưa trả lời khảo sát" in fresh(tg)
    clock.advance(hours=10)
    await nudge_polls(app.db, app.settings, clock)
    await app.sender.drain()
    assert fresh(tg) == ""  # at most two nudges


async def test_anonymous_answers_leave_no_trace_once_sent(app: App, clock: MovableClock) -> None:
    _, zl = await members(app, clock)
    await make_poll(app, clock)
    for text in ("khao sat", "Nhà ở", "1", "3", "Không có gì thêm, cảm ơn"):
        await zl.says(text)
    sent = [r for r in await rows(app, OutboxMessage) if r.chat_id == zl.chat_id]
    poll_rows = [r for r in sent if r.payload.get("private")]
    assert poll_rows and all("text" not in r.payload for r in poll_rows)
    assert not any("Nhà ở" in str(r.payload) for r in sent)
    assert all(e.payload is None for e in await rows(app, InboxEvent))


async def test_someone_who_joins_after_the_poll_opened_is_asked_too(
    app: App, clock: MovableClock
) -> None:
    codes = await seed(app, clock)
    await make_poll(app, clock)
    late = Chat(app, app.channels["zalo"], "zl_8199")  # type: ignore[arg-type]
    await late.says(codes["AP-PT-A1/member"])
    await late.says("1")
    await late.says("Hồ Văn Tâm")
    out = await late.says("1")
    assert "Chào mừng" in texts(out) and "Khảo sát mới" in texts(out)
    out = await late.says("khao sat")
    assert "Câu 1/4" in texts(out)
    outsider = Chat(app, app.channels["zalo"], "zl_8198")  # type: ignore[arg-type]
    await joined(outsider, codes["AP-THPT-12A1/member"], "Mai Văn Tú")  # not in Phú Thịnh
    out = await outsider.says("khao sat")
    assert "không có khảo sát nào" in texts(out)
