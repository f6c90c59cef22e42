"""Conversations in process: commands, bad input, privacy rights, linking channels."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from bot.messages import Channel
from storage.models import AuditEntry, ChannelIdentity, Consent, Membership, Person, PersonStatus
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, RecordingChannel, texts
from tests.test_join_flow import count, seed


async def joined(chat: Chat, code: str, name: str = "Lê Văn Nam") -> None:
    await chat.says(code)
    await chat.says("1")
    await chat.says(name)
    out = await chat.says("1")
    assert "Chào mừng" in texts(out), texts(out)


async def test_repeated_update_is_processed_once(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    await zalo_user.says(codes["AP-PT-A1/member"])
    await zalo_user.says("1")
    await zalo_user.says("Lê Văn Nam")
    incoming = zalo_user._incoming(text="1")
    out = await zalo_user.repeat(incoming)
    assert "Chào mừng" in texts(out)
    again = await zalo_user.repeat(incoming)  # the platform sends the same update again
    assert again == []
    assert await count(app, Person) == 1
    assert await count(app, Membership) == 1


async def test_cancel_menu_help_always_work(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    codes = await seed(app, clock)
    await telegram_user.says(codes["AP-PT-A1/member"])
    out = await telegram_user.says("/trogiup")
    assert "/huy" in texts(out)
    assert "Tôi đồng ý" in texts(out)  # the open question is shown again
    out = await telegram_user.says("/huy")
    assert "Đã hủy" in texts(out)
    out = await telegram_user.says("1")  # nothing is open any more
    assert "mã mời" in texts(out)
    assert await count(app, Person) == 0


async def test_zalo_words_for_commands_and_cancel(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    await joined(zalo_user, codes["AP-PT-A1/member"])
    out = await zalo_user.says("Menu")
    assert "1. " in texts(out) and "Dữ liệu của tôi" in texts(out)
    await zalo_user.says("du lieu cua toi")
    out = await zalo_user.says("sửa họ tên")
    assert "họ và tên" in texts(out)
    out = await zalo_user.says("hủy")  # cancels even where free text is expected
    assert "Đã hủy" in texts(out)
    async with unit_of_work(app.db) as uow:
        assert (await uow.session.exec(select(Person))).one().full_name == "Lê Văn Nam"


async def test_nonsense_answer_keeps_the_question(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    await zalo_user.says(codes["AP-PT-A1/member"])
    out = await zalo_user.says("7")
    assert "từ 1 đến 2" in texts(out)
    assert "1. ✅ Tôi đồng ý" in texts(out)
    out = await zalo_user.says("đồng ý")  # fits both options
    assert "1. ✅ Tôi đồng ý" in texts(out) and "2. ❌ Không đồng ý" in texts(out)
    out = await zalo_user.sends_photo()
    assert "chỉ đọc được tin nhắn chữ" in texts(out)
    out = await zalo_user.says("hai")
    assert "không lưu" in texts(out)


async def test_bad_names_are_refused_politely(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    await zalo_user.says(codes["AP-PT-A1/member"])
    await zalo_user.says("1")
    out = await zalo_user.says("Nguyễn " + "A" * 100)
    assert "dài quá" in texts(out)
    out = await zalo_user.says("An123")
    assert "không có số" in texts(out)
    out = await zalo_user.says("An")
    assert "cả họ và tên" in texts(out)
    assert await count(app, Person) == 0


async def test_flow_times_out(app: App, clock: MovableClock, telegram_user: Chat) -> None:
    codes = await seed(app, clock)
    await telegram_user.says(codes["AP-PT-A1/member"])
    question = telegram_user.last_question()
    clock.advance(minutes=31)
    out = await telegram_user.presses("Tôi đồng ý", on=question)
    assert [o.kind for o in out] == ["answer"] and "hết hạn" in out[0].text
    out = await telegram_user.says("Lê Văn Nam")
    assert "mã mời" in texts(out)


async def test_group_chat_is_sent_to_private(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    out = await telegram_user.says("/menu", group=True)
    assert "nhắn riêng" in texts(out)
    assert await telegram_user.says("chào cả nhà", group=True) == []


async def test_my_data_and_delete(app: App, clock: MovableClock, telegram_user: Chat) -> None:
    codes = await seed(app, clock)
    await joined(telegram_user, codes["AP-PT-A1/member"])
    out = await telegram_user.says("/dulieucuatoi")
    shown = texts(out)
    assert "Lê Văn Nam" in shown and "Chi đoàn ấp 1" in shown and "Telegram: từ 22/11/2026" in shown
    out = await telegram_user.presses("Xóa dữ liệu")
    assert "không hoàn tác" in texts(out)
    out = await telegram_user.presses("Không, giữ lại")
    assert "giữ nguyên" in texts(out)
    await telegram_user.says("/xoadulieu")
    out = await telegram_user.presses("Xóa dữ liệu")
    assert "Đã xóa dữ liệu" in texts(out)
    async with unit_of_work(app.db) as uow:
        person = (await uow.session.exec(select(Person))).one()
        assert person.full_name is None and person.status == PersonStatus.DELETED
        assert (await uow.session.exec(select(ChannelIdentity))).all() == []
        assert (await uow.session.exec(select(Membership))).all() == []
        consent = (await uow.session.exec(select(Consent))).one()
        assert consent.withdrawn_at is not None  # proof kept, without a name
        actions = {a.action for a in (await uow.session.exec(select(AuditEntry))).all()}
        assert {"person.joined", "person.erased"} <= actions
    out = await telegram_user.says("/dulieucuatoi")
    assert "chưa tham gia" in texts(out)


async def test_link_telegram_and_zalo(
    app: App, clock: MovableClock, telegram_user: Chat, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    await joined(telegram_user, codes["AP-PT-A1/member"])
    out = await telegram_user.says("/lienket")
    code = next(w for w in texts(out).split() if len(w) == 8 and w.isupper())
    out = await zalo_user.says(code)
    assert "Đã liên kết Zalo với tài khoản của Lê Văn Nam" in texts(out)
    out = await zalo_user.says("du lieu cua toi")
    assert "Telegram" in texts(out) and "Zalo" in texts(out)
    other = Chat(app, app.channels["zalo"], "zu_9999")  # type: ignore[arg-type]
    out = await other.says(code)
    assert "hết hạn hoặc đã được dùng" in texts(out)
    assert await count(app, Person) == 1


async def test_language_is_kept_per_person(app: App, clock: MovableClock, zalo_user: Chat) -> None:
    codes = await seed(app, clock)
    await joined(zalo_user, codes["AP-PT-A1/member"])
    await zalo_user.says("/ngonngu")
    out = await zalo_user.says("English")
    assert "Switched to English" in texts(out) and "My data" in texts(out)
    out = await zalo_user.says("/dulieucuatoi")
    assert "What the bot holds about you" in texts(out)


async def test_secretary_invites_and_lists_members(
    app: App, clock: MovableClock, telegram_user: Chat, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    await joined(telegram_user, codes["AP-PT-A1/secretary"], "Võ Thị Mai")
    out = await telegram_user.says("/moi")
    invite = next(w for w in texts(out).split() if len(w) == 8 and w.isupper())
    assert "Chi đoàn ấp 1" in texts(out)
    await joined(zalo_user, invite, "Đặng Văn Tú")
    out = await telegram_user.says("/thanhvien")
    assert "2/2" in texts(out) and "✅ Đặng Văn Tú (đoàn viên)" in texts(out)
    app.channels["zalo"].blocked.add(zalo_user.chat_id)  # type: ignore[attr-defined]
    await zalo_user.says("/menu")  # the reply bounces: the bot learns it is blocked
    out = await telegram_user.says("/thanhvien")
    assert "🚫 Đặng Văn Tú (đoàn viên)" in texts(out)
    app.channels["zalo"].blocked.clear()  # type: ignore[attr-defined]
    out = await zalo_user.says("/thanhvien")
    assert "chỉ dành cho cán bộ" in texts(out)


async def test_member_gets_a_second_role(app: App, clock: MovableClock, zalo_user: Chat) -> None:
    codes = await seed(app, clock)
    await joined(zalo_user, codes["AP-PT-A1/member"])
    out = await zalo_user.says(codes["AP-PT-A1/member"])
    assert "đã là đoàn viên" in texts(out)
    out = await zalo_user.says(codes["AP-PT-A1/secretary"])
    assert "vai trò bí thư" in texts(out)
    out = await zalo_user.says("1")
    assert "Mời thành viên" in texts(out)  # the menu now fits a secretary
    assert await count(app, Membership) == 2


async def test_blocked_person_is_marked_unreachable(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    codes = await seed(app, clock)
    await joined(telegram_user, codes["AP-PT-A1/member"])
    channel: RecordingChannel = app.channels["telegram"]  # type: ignore[assignment]
    channel.blocked.add(telegram_user.chat_id)
    await telegram_user.says("/menu")
    async with unit_of_work(app.db) as uow:
        identity = (await uow.session.exec(select(ChannelIdentity))).one()
        assert not identity.reachable
    channel.blocked.clear()
    await telegram_user.says("/menu")  # writing again means they unblocked us
    async with unit_of_work(app.db) as uow:
        identity = (await uow.session.exec(select(ChannelIdentity))).one()
        assert identity.reachable and identity.channel == Channel.TELEGRAM.value
