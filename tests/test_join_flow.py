"""Joining, in process: the same flow on Telegram (buttons) and Zalo (numbered text)."""

from __future__ import annotations

from sqlmodel import select

from bot.app import App
from storage.models import ChannelIdentity, Consent, Membership, Person
from storage.sample import seed_sample_province
from storage.uow import unit_of_work
from tests.support import Chat, MovableClock, texts


async def seed(app: App, clock: MovableClock) -> dict[str, str]:
    async with unit_of_work(app.db) as uow:
        invites = await seed_sample_province(uow, clock())
        await uow.commit()
    return {f"{i.unit_code}/{i.role}": i.code for i in invites}


async def count(app: App, model: type) -> int:
    async with unit_of_work(app.db) as uow:
        return len((await uow.session.exec(select(model))).all())


async def test_telegram_join_with_buttons(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    codes = await seed(app, clock)
    out = await telegram_user.says(f"/start {codes['AP-PT-A1/member']}")
    assert "Chi đoàn ấp 1" in texts(out)
    assert "Luật số 91/2025/QH15" in texts(out)
    assert await count(app, Person) == 0

    out = await telegram_user.presses("Tôi đồng ý")
    kinds = [o.kind for o in out]
    assert kinds[:2] == ["answer", "edit"]
    assert "Bạn đã chọn: ✅ Tôi đồng ý" in out[1].text
    assert "họ và tên" in texts(out)

    out = await telegram_user.says("  phạm   thị  thu ")
    assert "Họ tên của bạn là: Phạm Thị Thu" in texts(out)
    out = await telegram_user.presses("Đúng")
    assert "Chào mừng Phạm Thị Thu" in texts(out)
    assert "Dữ liệu của tôi" in texts(out)  # main menu

    async with unit_of_work(app.db) as uow:
        person = (await uow.session.exec(select(Person))).one()
        assert person.full_name == "Phạm Thị Thu"
        membership = (await uow.session.exec(select(Membership))).one()
        assert membership.role == "member"
        consent = (await uow.session.exec(select(Consent))).one()
        assert consent.text_version and consent.withdrawn_at is None
        identity = (await uow.session.exec(select(ChannelIdentity))).one()
        assert identity.channel == "telegram" and identity.platform_user_id == "5001"


async def test_zalo_join_with_words_and_numbers(
    app: App, clock: MovableClock, zalo_user: Chat
) -> None:
    codes = await seed(app, clock)
    code = codes["AP-PT-A2/member"]
    out = await zalo_user.says(f"{code[:4].lower()}-{code[4:].lower()}")
    assert "1. ✅ Tôi đồng ý" in texts(out)
    out = await zalo_user.says("toi dong y")
    assert "họ và tên" in texts(out)
    out = await zalo_user.says("1")  # the display name offered as option 1
    assert "Trần Thị Bình" in texts(out)
    out = await zalo_user.says("mot")
    assert "Chào mừng Trần Thị Bình" in texts(out)
    assert "Chi đoàn ấp 2" in texts(out)


async def test_declining_stores_nothing(app: App, clock: MovableClock, zalo_user: Chat) -> None:
    codes = await seed(app, clock)
    await zalo_user.says(codes["AP-PT-A1/member"])
    out = await zalo_user.says("2")
    assert "không lưu thông tin nào" in texts(out)
    assert await count(app, Person) == 0
    assert await count(app, ChannelIdentity) == 0


async def test_stale_button_changes_nothing(
    app: App, clock: MovableClock, telegram_user: Chat
) -> None:
    codes = await seed(app, clock)
    await telegram_user.says(f"/start {codes['AP-PT-A1/member']}")
    consent_q = telegram_user.last_question()
    await telegram_user.presses("Tôi đồng ý")
    out = await telegram_user.presses("Không đồng ý", on=consent_q)
    assert [o.kind for o in out] == ["answer"]
    assert "đã cũ" in out[0].text
    out = await telegram_user.says("Lê Thị Hoa")
    assert "Lê Thị Hoa" in texts(out)


async def test_bad_codes_and_names(app: App, clock: MovableClock, zalo_user: Chat) -> None:
    await seed(app, clock)
    out = await zalo_user.says("ABCDEFGH")
    assert "Mã không đúng" in texts(out)
    out = await zalo_user.says("xin chào")
    assert "mã mời" in texts(out)
    assert await count(app, Person) == 0
