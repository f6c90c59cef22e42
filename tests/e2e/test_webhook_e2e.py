"""The bot in webhook mode: it registers both webhooks and the fakes push updates to it."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e.conftest import TG_SECRET, ZALO_SECRET, Sandbox

pytestmark = pytest.mark.e2e


async def test_join_through_webhooks_on_both_channels(webhook_sandbox: Sandbox) -> None:
    tg, zl = webhook_sandbox.telegram, webhook_sandbox.zalo
    assert tg.webhook_url.endswith("/telegram/webhook")
    assert zl.webhook_url.endswith("/zalo/webhook")

    tg.user_says(601, f"/start {webhook_sandbox.codes['AP-THPT-12A1/member']}")
    msgs = await tg.wait_for_bot_messages(601, 1)
    assert "Chi đoàn 12A1" in (msgs[0].text or "")
    tg.press(601, button=1)
    await tg.wait_for_bot_messages(601, 2)
    tg.user_says(601, "Hồ Thị Lan")
    await tg.wait_for_bot_messages(601, 3)
    tg.press(601, button=1)
    msgs = await tg.wait_for_bot_messages(601, 4)
    assert "Chào mừng Hồ Thị Lan" in (msgs[-1].text or "")

    zl.user_says("zu_61", webhook_sandbox.codes["AP-THPT-12A1/member"])
    await zl.wait_for_bot_messages("zu_61", 1)
    zl.user_says("zu_61", "1")
    await zl.wait_for_bot_messages("zu_61", 2)
    zl.user_says("zu_61", "Phan Minh Khoa")
    await zl.wait_for_bot_messages("zu_61", 3)
    zl.user_says("zu_61", "1")
    msgs = await zl.wait_for_bot_messages("zu_61", 4)
    assert "Chào mừng Phan Minh Khoa" in (msgs[-1].text or "")
    assert all(a.secret_token == TG_SECRET for a in tg.webhook_log)
    assert all(a.secret_token == ZALO_SECRET for a in zl.webhook_log)


@pytest.mark.single_backend  # conversation only: PostgreSQL runs its storage in process
async def test_webhook_refuses_a_wrong_secret(webhook_sandbox: Sandbox) -> None:
    base = webhook_sandbox.bot.env["DOANBOT_PUBLIC_URL"]
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "/menu",
            "chat": {"id": 9, "type": "private"},
            "from": {"id": 9, "is_bot": False, "first_name": "X"},
        },
    }
    async with aiohttp.ClientSession() as http:
        for path, header in (
            ("/telegram/webhook", "X-Telegram-Bot-Api-Secret-Token"),
            ("/zalo/webhook", "X-Bot-Api-Secret-Token"),
        ):
            async with http.post(base + path, json=update, headers={header: "wrong"}) as r:
                assert r.status == 401
            async with http.post(base + path, json=update) as r:
                assert r.status == 401
        async with http.get(base + "/healthz") as r:
            assert r.status == 200
