"""The real bot process, joining on Telegram (buttons) and Zalo (numbered text)."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import TG_TOKEN, ZALO_TOKEN, Sandbox

pytestmark = pytest.mark.e2e


async def settle(seconds: float = 0.6) -> None:
    """Give the bot time to (wrongly) send something more."""
    await asyncio.sleep(seconds)


@pytest.mark.single_backend  # conversation only: PostgreSQL runs its storage in process
async def test_telegram_join_by_deep_link(sandbox: Sandbox) -> None:
    tg = sandbox.telegram
    tg.user_says(
        501, f"/start {sandbox.codes['AP-PT-A1/member']}", first_name="Hoa", last_name="Lê Thị"
    )
    msgs = await tg.wait_for_bot_messages(501, 1)
    consent = msgs[0]
    assert "Chi đoàn ấp 1" in (consent.text or "")
    assert consent.buttons == [["✅ Tôi đồng ý", "❌ Không đồng ý"]]

    tg.press(501, button="✅ Tôi đồng ý")
    msgs = await tg.wait_for_bot_messages(501, 2)
    assert "Bạn đã chọn: ✅ Tôi đồng ý" in (msgs[0].text or "")  # the question was edited
    assert msgs[0].buttons == []
    assert "họ và tên" in (msgs[1].text or "")
    assert msgs[1].buttons == [["Lê Thị Hoa"]]  # the Telegram name is offered

    tg.press(501, button="Lê Thị Hoa")
    await tg.wait_for_bot_messages(501, 3)
    tg.press(501, button="✅ Đúng")
    msgs = await tg.wait_for_bot_messages(501, 4)
    assert "Chào mừng Lê Thị Hoa" in (msgs[-1].text or "")
    assert not tg.unanswered_callbacks()

    code, out = await sandbox.cli("members", "list", "--unit", "AP")
    assert code == 0, out
    assert "Lê Thị Hoa" in out and "telegram" in out.lower()
    names = [c["command"] for c in tg.commands()]
    assert {"menu", "trogiup", "huy", "dulieucuatoi"} <= set(names)
    log = sandbox.bot.log()
    assert "doanbot running" in log and TG_TOKEN not in log and ZALO_TOKEN not in log


@pytest.mark.single_backend  # conversation only: PostgreSQL runs its storage in process
async def test_zalo_join_by_code_and_words(sandbox: Sandbox) -> None:
    zl = sandbox.zalo
    code = sandbox.codes["AP-PT-A2/member"]
    zl.user_says("zu_42", code.lower(), display_name="bình")
    msgs = await zl.wait_for_bot_messages("zu_42", 1)
    assert "1. ✅ Tôi đồng ý\n2. ❌ Không đồng ý" in (msgs[0].text or "")
    zl.user_says("zu_42", "Toi dong y")
    await zl.wait_for_bot_messages("zu_42", 2)
    zl.user_says("zu_42", "trần thị bình")
    msgs = await zl.wait_for_bot_messages("zu_42", 3)
    assert "Trần Thị Bình" in (msgs[-1].text or "")
    zl.user_says("zu_42", "hai")  # retype
    await zl.wait_for_bot_messages("zu_42", 4)
    zl.user_says("zu_42", "Trần Thị Bình")
    await zl.wait_for_bot_messages("zu_42", 5)
    zl.user_says("zu_42", "dung")
    msgs = await zl.wait_for_bot_messages("zu_42", 6)
    assert "Chào mừng Trần Thị Bình" in (msgs[-1].text or "")
    assert all(len(m.text or "") <= 2000 for m in msgs)

    code_, out = await sandbox.cli("members", "list", "--unit", "AP-PT-A2")
    assert code_ == 0 and "Trần Thị Bình" in out


async def test_repeated_updates_are_processed_once(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    update_id = tg.user_says(502, f"/start {sandbox.codes['AP-PT-A1/member']}")
    await tg.wait_for_bot_messages(502, 1)
    tg.redeliver(update_id)
    message_id = zl.user_says("zu_43", sandbox.codes["AP-PT-A1/member"])
    await zl.wait_for_bot_messages("zu_43", 1)
    zl.redeliver(message_id)
    await settle()
    assert len(tg.bot_messages(502)) == 1
    assert len(zl.bot_messages("zu_43")) == 1


@pytest.mark.single_backend  # conversation only: PostgreSQL runs its storage in process
async def test_stale_button_and_bad_input(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    tg.user_says(503, f"/start {sandbox.codes['AP-PT-A1/member']}")
    first = (await tg.wait_for_bot_messages(503, 1))[0]
    old_agree = str(first.inline_buttons[0]["callback_data"])
    tg.press(503, button=2)  # decline: the question is closed
    await tg.wait_for_bot_messages(503, 2)
    tg.press_data(503, first.message_id, old_agree)  # an old button, pressed later
    await settle()
    assert any("cũ" in (text or "") for text in tg.callback_answers.values())
    assert not tg.unanswered_callbacks()
    assert len(tg.bot_messages(503)) == 2  # nothing else happened

    zl.user_says("zu_44", "ZZZZ2222")
    msgs = await zl.wait_for_bot_messages("zu_44", 1)
    assert "Mã không đúng" in (msgs[0].text or "")
    zl.user_sends_sticker("zu_44")
    msgs = await zl.wait_for_bot_messages("zu_44", 2)
    assert "tin nhắn chữ" in (msgs[-1].text or "")


async def test_kill_during_reply_then_restart_sends_once(sandbox: Sandbox) -> None:
    tg = sandbox.telegram
    tg.delay_sends(504, 3.0)
    tg.user_says(504, f"/start {sandbox.codes['AP-PT-A1/member']}")
    await asyncio.sleep(1.0)  # the bot has stored the update and is waiting on sendMessage
    await sandbox.bot.kill()  # the reply was in flight
    tg.delay_sends(504, 0.0)
    assert tg.bot_messages(504) == []
    await sandbox.bot.start()
    msgs = await tg.wait_for_bot_messages(504, 1)
    await settle(1.0)
    assert len(tg.bot_messages(504)) == 1
    assert "Chi đoàn ấp 1" in (msgs[0].text or "")
    tg.press(504, button="✅ Tôi đồng ý")  # the conversation carried on from the database
    msgs = await tg.wait_for_bot_messages(504, 2)
    assert "họ và tên" in (msgs[-1].text or "")


async def test_kill_before_confirming_update_then_restart_processes_once(sandbox: Sandbox) -> None:
    tg = sandbox.telegram
    await sandbox.bot.kill()
    tg.user_says(505, f"/start {sandbox.codes['AP-PT-A1/member']}")  # arrives while down
    await sandbox.bot.start()
    await tg.wait_for_bot_messages(505, 1)
    await settle(1.0)
    assert len(tg.bot_messages(505)) == 1
