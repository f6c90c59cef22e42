"""Creating a poll by conversation, on Telegram (buttons) and Zalo (numbers and words)."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from scheduler.polls import open_due_polls
from storage.models import Poll, PollQuestion, PollRecipient
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, texts
from tests.test_flows import joined
from tests.test_join_flow import seed


async def polls(app: App) -> list[tuple[Poll, list[PollQuestion]]]:
    async with unit_of_work(app.db) as uow:
        found = (await uow.session.exec(select(Poll))).all()
        return [(p, await uow.polls.questions(p.id or 0)) for p in found]


async def test_secretary_creates_a_poll_with_buttons(app: App, clock: MovableClock) -> None:
    codes = await seed(app, clock)
    secretary = Chat(app, app.channels["telegram"], "9001")  # type: ignore[arg-type]
    member = Chat(app, app.channels["zalo"], "zm_9002")  # type: ignore[arg-type]
    await joined(secretary, codes["AP-PT-A1/secretary"], "Võ Thị Mai")
    await joined(member, codes["AP-PT-A1/member"], "Lê Văn Nam")

    out = await secretary.says("/taokhaosat")
    assert "Chi đoàn ấp 1" in texts(out)  # the one branch she leads: no question about it
    out = await secretary.says("x" * 250)  # an overlong title: refused, asked again
    assert "250 ký tự" in texts(out) and "tên khảo sát" in texts(out)
    await secretary.says("Tâm tư đoàn viên tháng 12")
    await secretary.presses("Một lựa chọn")
    await secretary.says("Bạn quan tâm nhất điều gì?")
    out = await secretary.says("Việc làm")  # one option is not enough
    assert "từ 2 đến 10" in texts(out)
    await secretary.says("Việc làm; Học tập; Nhà ở")
    out = await secretary.presses("Có")
    assert "1. Bạn quan tâm nhất điều gì? (Một lựa chọn: Việc làm, Học tập, Nhà ở" in texts(out)
    await secretary.presses("Thêm câu hỏi")
    await secretary.presses("Thang điểm")
    await secretary.says("Bạn hài lòng với sinh hoạt chi đoàn?")
    await secretary.presses("Tiếp tục")
    await secretary.presses("Ẩn danh")
    await secretary.presses("Mọi người")
    out = await secretary.says("32/13")
    assert "chưa hiểu ngày" in texts(out)
    out = await secretary.says("20/11/2026")  # in the past
    assert "ít nhất 60 phút" in texts(out)
    await secretary.says("15/12/2026 17:00")
    out = await secretary.presses("Có, gửi kết quả")
    preview = texts(out)
    assert "Gửi đến: 2 người" in preview and "17:00 15/12/2026" in preview
    out = await secretary.presses("Gửi khảo sát")
    assert "Đã lưu khảo sát" in texts(out)

    [(poll, questions)] = await polls(app)
    assert poll.anonymous and poll.results_to_respondents
    assert [q.kind for q in questions] == ["single", "scale"]
    assert questions[0].options == ["Việc làm", "Học tập", "Nhà ở"] and questions[0].allow_other

    await open_due_polls(app.db, app.settings, clock)
    await app.sender.drain()
    out = await member.says("khao sat")
    assert "Câu 1/2: Bạn quan tâm nhất điều gì?" in texts(out)
    async with unit_of_work(app.db) as uow:
        assert len((await uow.session.exec(select(PollRecipient))).all()) == 2


async def test_standing_committee_on_zalo_picks_a_unit_and_cancels(
    app: App, clock: MovableClock
) -> None:
    codes = await seed(app, clock)
    standing = Chat(app, app.channels["zalo"], "zs_9101")  # type: ignore[arg-type]
    await joined(standing, codes["AP/standing"], "Phạm Minh Tuấn")
    out = await standing.says("tao khao sat")
    assert "Tỉnh đoàn An Phú" in texts(out)
    await standing.says("Khảo sát việc làm thanh niên")
    await standing.says("nhieu lua chon")
    await standing.says("Bạn cần hỗ trợ gì?")
    await standing.says("1. Tìm việc\n2. Học nghề\n3. Vay vốn")
    await standing.says("khong")
    await standing.says("tiep tuc")
    await standing.says("2")  # named
    out = await standing.says("Đoàn xã Phú Thịnh")
    assert "Gửi cho ai" in texts(out)
    await standing.says("chi doan vien")
    await standing.says("sau 7 ngày")
    out = await standing.says("khong gui")
    assert "Tìm việc, Học nghề, Vay vốn" in texts(out) and "Có ghi tên" in texts(out)
    out = await standing.says("huy")
    assert "Đã hủy" in texts(out)
    assert await polls(app) == []
