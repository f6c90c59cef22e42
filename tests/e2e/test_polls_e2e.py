"""Polls through the real bot process, against the fake Telegram and Zalo servers.

A secretary creates a poll by chat, members answer on both channels (changing an
answer, an old button, nonsense typed on Zalo, an answer after the deadline), only
those who have not answered are nudged, and the results and Excel file are right,
with small cells hidden in anonymous polls. Also: an answer sent just before a
kill -9 is recorded exactly once after the restart.
"""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.fake_zalo import FakeZalo
from storage.db import Database
from storage.models import Membership, Person, PollChoice, PollRecipient, PollResponse, Unit
from storage.polls import respondent_key
from storage.uow import unit_of_work
from tests.e2e.conftest import Sandbox
from tests.e2e.test_meetings_e2e import join_telegram, join_zalo

pytestmark = pytest.mark.e2e
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def morning(days: int = 1, hour: int = 9) -> datetime:
    """``hour`` o'clock local time, ``days`` from today: outside quiet hours."""
    local = datetime.now(UTC).astimezone(TZ) + timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0).astimezone(UTC)


def body(message: object) -> str:
    return (getattr(message, "text", None) or getattr(message, "caption", None) or "").strip()


async def expect(
    fake: FakeTelegram | FakeZalo, chat: int | str, needle: str, *, after: int = 0
) -> str:
    """Wait (up to ~15 s) for a bot message at position ``after`` or later matching ``needle``."""
    for _ in range(150):
        messages = fake.bot_messages(chat)  # type: ignore[arg-type]
        for message in messages[after:]:
            if re.search(needle, body(message)):
                return body(message)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {needle!r} in chat {chat}:\n{fake.format_transcript(chat)}")  # type: ignore[arg-type]


async def nothing_new(
    fake: FakeTelegram | FakeZalo, chat: int | str, needle: str, after: int
) -> None:
    await asyncio.sleep(2.0)
    new = [body(m) for m in fake.bot_messages(chat)[after:]]  # type: ignore[arg-type]
    assert not any(re.search(needle, text) for text in new), new


def seen(fake: FakeTelegram | FakeZalo, chat: int | str) -> int:
    return len(fake.bot_messages(chat))  # type: ignore[arg-type]


def press(tg: FakeTelegram, user: int, needle: str) -> None:
    """Press the button containing ``needle`` on the newest message with buttons."""
    for message in reversed(tg.bot_messages(user)):
        for button in message.inline_buttons:
            if needle in button.get("text", ""):
                tg.press(user, button=button["text"], message_id=message.message_id)
                return
    raise AssertionError(f"no button {needle!r}:\n{tg.format_transcript(user)}")


async def says(fake: FakeTelegram | FakeZalo, chat: int | str, text: str, needle: str) -> str:
    after = seen(fake, chat)
    fake.user_says(chat, text)  # type: ignore[arg-type]
    return await expect(fake, chat, needle, after=after)


async def presses(tg: FakeTelegram, user: int, label: str, needle: str) -> str:
    after = seen(tg, user)
    press(tg, user, label)
    return await expect(tg, user, needle, after=after)


async def rows(url: str, model: type) -> list:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            return list((await uow.session.exec(select(model))).all())
    finally:
        await db.dispose()


@pytest.mark.single_backend
async def test_poll_created_answered_nudged_and_closed_on_both_channels(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    start = morning()
    sandbox.move_clock_to(start)
    codes = sandbox.codes
    await join_telegram(sandbox, 811, codes["AP-PT-A1/secretary"], "Võ Thị Mai")
    await join_telegram(sandbox, 812, codes["AP-PT-A1/member"], "Lê Văn Nam")
    await join_zalo(sandbox, "zm_813", codes["AP-PT-A1/member"], "Trần Thị Bình")
    await join_zalo(sandbox, "zm_814", codes["AP-PT-A1/member"], "Đỗ Văn Hùng")

    # The secretary makes an anonymous poll with buttons.
    await says(tg, 811, "/taokhaosat", "tên khảo sát")
    await says(tg, 811, "Tâm tư đoàn viên tháng 12", "loại nào")
    await presses(tg, 811, "Một lựa chọn", "nội dung câu hỏi")
    await says(tg, 811, "Bạn quan tâm nhất điều gì?", "các lựa chọn")
    await says(tg, 811, "Việc làm; Học tập; Nhà ở", "Khác")
    await presses(tg, 811, "Có", "có 1 câu hỏi")
    await presses(tg, 811, "Thêm câu hỏi", "loại nào")
    await presses(tg, 811, "Nhiều lựa chọn", "nội dung câu hỏi")
    await says(tg, 811, "Bạn muốn tham gia hoạt động nào?", "các lựa chọn")
    await says(tg, 811, "Thể thao; Tình nguyện; Kỹ năng số", "Khác")
    await presses(tg, 811, "Không", "có 2 câu hỏi")
    await presses(tg, 811, "Tiếp tục", "ẩn danh hay ghi tên")
    await presses(tg, 811, "Ẩn danh", "Gửi cho ai")
    await presses(tg, 811, "Mọi người", "Hạn chót")
    await says(tg, 811, "sau 2 ngày", "gửi kết quả")
    preview = await presses(tg, 811, "Có, gửi kết quả", "Xem lại")
    assert "Gửi đến: 4 người" in preview
    await presses(tg, 811, "Gửi khảo sát", "Đã lưu khảo sát")

    # Everyone is asked; a Telegram member answers with buttons.
    for fake, chat in ((tg, 812), (zl, "zm_813"), (zl, "zm_814")):
        await expect(fake, chat, "Khảo sát mới")
    await presses(tg, 812, "Trả lời ngay", "Câu 1/2")
    first = tg.bot_messages(812)[-1]
    old_button = next(b["callback_data"] for b in first.inline_buttons if b["text"] == "Nhà ở")
    await presses(tg, 812, "Việc làm", "Câu 2/2")
    before = seen(tg, 812)
    press(tg, 812, "Tình nguyện")  # a toggle: the same message is updated
    for _ in range(100):
        if any("☑ Tình nguyện" in b["text"] for b in tg.bot_messages(812)[-1].inline_buttons):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(tg.format_transcript(812))
    assert seen(tg, 812) == before
    await presses(tg, 812, "Xong", "Cảm ơn bạn")
    tg.press_data(812, first.message_id, old_button)  # the first question's old button
    for _ in range(100):
        if any("cũ" in (text or "") for text in tg.callback_answers.values()):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(tg.callback_answers)

    # A Zalo member answers by words and numbers, types nonsense, then changes an answer.
    await says(zl, "zm_813", "khao sat", "Câu 1/2")
    await says(zl, "zm_813", "nha o", "Câu 2/2")
    await says(zl, "zm_813", "bảy tám", "chưa hiểu")
    await says(zl, "zm_813", "1 3", "Cảm ơn bạn")
    await says(zl, "zm_813", "khao sat", "Bạn đã trả lời")
    await says(zl, "zm_813", "sua cau 1", "Câu 1/2")
    await says(zl, "zm_813", "hoc tap", "Bạn đã trả lời")
    await says(zl, "zm_813", "xong, giu nguyen", "Đã lưu")
    responses = await rows(sandbox.database_url, PollResponse)
    assert len(responses) == 4 and all(r.person_id is None for r in responses)
    assert sorted(c.option for c in await rows(sandbox.database_url, PollChoice)) == [1, 1, 2, 2, 3]

    # Halfway: only the member who has not answered is nudged.
    marks = {chat: seen(fake, chat) for fake, chat in ((tg, 812), (zl, "zm_813"), (zl, "zm_814"))}
    sandbox.move_clock_to(start + timedelta(days=1, hours=8))
    await expect(zl, "zm_814", "chưa trả lời khảo sát", after=marks["zm_814"])
    await nothing_new(tg, 812, "chưa trả lời", marks[812])
    await nothing_new(zl, "zm_813", "chưa trả lời", marks["zm_813"])

    # Ten minutes before the deadline the late member starts; the poll closes meanwhile.
    deadline = (start.astimezone(TZ) + timedelta(days=2)).replace(hour=23, minute=59)
    sandbox.move_clock_to(deadline - timedelta(minutes=10))
    await says(zl, "zm_814", "khao sat", "Câu 1/2")
    sandbox.move_clock_to(deadline + timedelta(minutes=5))
    await asyncio.sleep(1.5)  # a scheduler tick closes the poll
    await says(zl, "zm_814", "1", "đã đóng")

    # After quiet hours the secretary and the respondents hear; two answers are too few.
    sandbox.move_clock_to(deadline + timedelta(hours=7, minutes=15))
    closed = await expect(tg, 811, "Khảo sát đã đóng")
    assert "2/4" in closed and "cần từ 5 người" in closed
    await expect(zl, "zm_813", "Kết quả khảo sát")
    await expect(tg, 812, "Kết quả khảo sát")
    await nothing_new(zl, "zm_814", "Kết quả khảo sát", seen(zl, "zm_814"))


async def add_respondents(url: str, poll_id: int, answers: list[tuple[str, list[int]]]) -> None:
    """People of the given branches who answered question 1 with the given options."""
    from bot.config import Settings

    secret = Settings(_env_file=None).poll_secret  # type: ignore[call-arg]
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            poll = await uow.polls.get(poll_id)
            assert poll is not None
            [question] = await uow.polls.questions(poll_id)
            for i, (unit_code, options) in enumerate(answers):
                unit = (await uow.session.exec(select(Unit).where(Unit.code == unit_code))).one()
                person = Person(full_name=f"Đoàn viên {i}")
                uow.session.add(person)
                await uow.session.flush()
                assert person.id is not None and unit.id is not None
                uow.session.add(Membership(person_id=person.id, unit_id=unit.id, role="member"))
                recipient = PollRecipient(
                    poll_id=poll_id, person_id=person.id, unit_id=unit.id, answered=True
                )
                uow.session.add(recipient)
                await uow.session.flush()
                await uow.polls.save_answer(
                    poll, question, recipient, options, None, secret=secret, now=poll.opens_at
                )
                assert respondent_key(poll, person.id, secret).startswith("a")
            await uow.commit()
    finally:
        await db.dispose()


@pytest.mark.single_backend
async def test_results_chart_and_excel_hide_small_cells(sandbox: Sandbox, tmp_path) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    sandbox.move_clock_to(morning())
    await join_telegram(sandbox, 821, sandbox.codes["AP/standing"], "Phạm Minh Tuấn")
    await join_zalo(sandbox, "zs_822", sandbox.codes["AP/standing"], "Ngô Thị Lan")
    poll_file = tmp_path / "poll.yaml"
    closes = (datetime.now(UTC).astimezone(TZ) + timedelta(days=10)).strftime("%d/%m/%Y")
    poll_file.write_text(
        "title: Nhu cầu việc làm\nunit: AP\nanonymous: true\nquestions:\n"
        "  - text: Bạn cần hỗ trợ gì nhất?\n    options: [Tìm việc, Học nghề, Vay vốn]\n"
        f"closes: {closes}\n",
        encoding="utf-8",
    )
    code, out = await sandbox.cli("polls", "create", str(poll_file))
    assert code == 0, out
    poll_id = int(re.search(r"#(\d+)", out).group(1))  # type: ignore[union-attr]
    await asyncio.sleep(1.5)  # the scheduler opens it
    # 12 answers in ấp 1 (7 "Tìm việc", 3 "Học nghề", 2 "Vay vốn"), 3 "Tìm việc" in ấp 2,
    # 6 "Học nghề" at the high school: 21 in all, 10 / 9 / 2.
    await add_respondents(
        sandbox.database_url,
        poll_id,
        [("AP-PT-A1", [1])] * 7
        + [("AP-PT-A1", [2])] * 3
        + [("AP-PT-A1", [3])] * 2
        + [("AP-PT-A2", [1])] * 3
        + [("AP-THPT-12A1", [2])] * 6,
    )
    code, out = await sandbox.cli("polls", "close", str(poll_id))
    assert code == 0, out

    await says(tg, 821, "/ketquakhaosat", "xem kết quả")
    after = seen(tg, 821)
    press(tg, 821, "Nhu cầu việc làm")
    text = await expect(tg, 821, "Bạn cần hỗ trợ gì nhất", after=after)
    assert "21 người trả lời" in text and "Tìm việc: 10 (48%)" in text
    assert "Vay vốn: ẩn" in text and "Vay vốn: 2" not in text  # 2 alone is never shown
    for _ in range(100):
        photos = [m for m in tg.bot_messages(821)[after:] if m.kind == "photo"]
        if photos:
            break
        await asyncio.sleep(0.1)
    assert photos and (photos[0].file_size or 0) > 1000
    await expect(tg, 821, "Bạn cần thêm gì", after=after)
    after = seen(tg, 821)
    press(tg, 821, "Excel")
    for _ in range(100):
        documents = [m for m in tg.bot_messages(821)[after:] if m.kind == "document"]
        if documents:
            break
        await asyncio.sleep(0.1)
    assert documents and (documents[0].document or "").endswith(".xlsx")

    # On Zalo the chart comes by a link the fake fetched, the file as a download link.
    await says(zl, "zs_822", "ket qua khao sat", "xem kết quả")
    after = seen(zl, "zs_822")
    zl.user_says("zs_822", "1")
    await expect(zl, "zs_822", "Bạn cần hỗ trợ gì nhất", after=after)
    for _ in range(100):
        photos = [m for m in zl.bot_messages("zs_822")[after:] if m.kind == "photo"]
        if photos and photos[0].fetched_status:
            break
        await asyncio.sleep(0.1)
    assert photos[0].fetched_status == 200 and photos[0].fetched_type == "image/png"
    link_text = await says(zl, "zs_822", "tai file excel", r"https?://\S+/media/")
    url = re.search(r"https?://\S+/media/\S+", link_text).group(0)  # type: ignore[union-attr]
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    summary, *questions = workbook.worksheets
    assert "Nhu cầu việc làm" in [c for row in summary.iter_rows(values_only=True) for c in row]
    table = list(questions[0].iter_rows(values_only=True))
    numbers = {v for row in table for v in row if isinstance(v, int)}
    assert any(row[:2] == ("Tổng", 21) for row in table), table
    assert any(row[:3] == ("Đoàn trường THPT An Phú", 6, 0) for row in table), table
    assert not {1, 2, 3, 4} & numbers, table  # no small cell anywhere in the sheet


async def test_answer_sent_just_before_a_crash_is_recorded_once(sandbox: Sandbox) -> None:
    tg = sandbox.telegram
    sandbox.move_clock_to(morning())
    await join_telegram(sandbox, 831, sandbox.codes["AP-PT-A1/member"], "Lý Thị Hoa")
    db = Database(sandbox.database_url)
    try:
        from handlers.polls.service import store_poll
        from handlers.polls.spec import PollSpec, QuestionSpec

        async with unit_of_work(db) as uow:
            await store_poll(
                uow,
                PollSpec(
                    title="Sinh hoạt chi đoàn",
                    unit="AP-PT-A1",
                    closes_at=morning(days=4),
                    questions=[
                        QuestionSpec(
                            text="Bạn thích hình thức nào?", options=["Trực tiếp", "Trực tuyến"]
                        ),
                        QuestionSpec(text="Góp ý", kind="text"),
                    ],
                ),
                now=morning(),
                created_by=None,
            )
            await uow.commit()
    finally:
        await db.dispose()
    await expect(tg, 831, "Khảo sát mới")
    await presses(tg, 831, "Trả lời ngay", "Câu 1/2")
    press(tg, 831, "Trực tuyến")
    await sandbox.bot.kill()  # whatever was in flight is cut off
    await sandbox.bot.start()
    await expect(tg, 831, "Câu 2/2")
    responses = await rows(sandbox.database_url, PollResponse)
    choices = await rows(sandbox.database_url, PollChoice)
    assert len(responses) == 1 and [c.option for c in choices] == [2]
    await says(tg, 831, "Nên sinh hoạt vào tối thứ Bảy", "Cảm ơn bạn")
    assert len([m for m in tg.bot_messages(831) if "Câu 2/2" in body(m)]) == 1
