"""The fake Zalo Bot API, driven over HTTP on 127.0.0.1 by a plain httpx client."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.sandbox.fake_zalo import FakeZalo, new_user_id

TOKEN = "1234567890:SANDBOX-zalo"
USER = "zu_1001"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    fake = FakeZalo(TOKEN, webhook_retry_delay=0.1)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def client(zalo: FakeZalo) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=zalo.api_url, timeout=5) as client:
        yield client


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> dict[str, Any]:
    response = await client.post(f"/{method}", json=params)
    assert response.status_code == 200  # Zalo reports errors inside an HTTP 200
    body: dict[str, Any] = response.json()
    return body


async def test_get_me(client: httpx.AsyncClient) -> None:
    me = await call(client, "getMe")
    assert me["ok"]
    assert me["result"]["id"] == "1234567890"
    assert set(me["result"]) == {"id", "account_name", "account_type", "can_join_groups"}


async def test_bad_token_and_unknown_method_are_http_200(zalo: FakeZalo) -> None:
    async with httpx.AsyncClient(base_url=zalo.base_url) as raw:
        wrong = await raw.post("/botWRONG/getMe", json={})
        unknown = await raw.post(f"/bot{TOKEN}/editMessage", json={})
    assert wrong.status_code == 200
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert unknown.status_code == 200 and unknown.json()["error_code"] == 404


async def test_get_updates_hands_out_one_update_per_call(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    first = zalo.user_says(USER, "xin chào", display_name="Lan")
    zalo.user_sends_photo(USER, "https://example.org/a.jpg", caption="minh chứng")
    update = (await call(client, "getUpdates", timeout="1"))["result"]
    assert update["event_name"] == "message.text.received"
    message = update["message"]
    assert message["message_id"] == first and re.fullmatch(r"[0-9a-f]{32}", first)
    assert message["text"] == "xin chào"
    assert message["from"] == {"id": USER, "display_name": "Lan", "is_bot": False}
    assert message["chat"] == {"id": USER, "chat_type": "PRIVATE"}
    assert message["date"] > 10**12  # milliseconds
    photo = (await call(client, "getUpdates", timeout=1))["result"]
    assert photo["event_name"] == "message.image.received"
    assert photo["message"]["photo"] == "https://example.org/a.jpg"
    assert photo["message"]["caption"] == "minh chứng"

    started = time.monotonic()
    empty = await call(client, "getUpdates", timeout="0.2")
    assert empty == {"ok": False, "error_code": 408, "description": "Request timeout"}
    assert time.monotonic() - started >= 0.2


async def test_long_poll_wakes_on_new_message(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    poll = asyncio.create_task(call(client, "getUpdates", timeout="5"))
    await asyncio.sleep(0.1)
    zalo.user_sends_sticker(USER)
    update = await asyncio.wait_for(poll, 2)
    assert update["result"]["event_name"] == "message.sticker.received"


async def test_send_message_rules(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    empty = await call(client, "sendMessage", chat_id=USER, text="")
    assert empty["ok"] is False and empty["error_code"] == 400
    too_long = await call(client, "sendMessage", chat_id=USER, text="x" * 2001)
    assert too_long == {"ok": False, "error_code": 400, "description": "text too long"}
    sent = await call(client, "sendMessage", chat_id=USER, text="đ" * 2000)
    assert sent["ok"] and set(sent["result"]) == {"message_id", "date"}
    [record] = zalo.bot_messages(USER)
    assert record.message_id == sent["result"]["message_id"] and record.text == "đ" * 2000
    assert zalo.sends_accepted == 1 and zalo.sends_per_chat[USER] == 1


async def test_photo_sticker_and_chat_action(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    photo = await call(
        client, "sendPhoto", chat_id=USER, photo="https://example.org/p.png", caption="Lịch"
    )
    sticker = await call(client, "sendSticker", chat_id=USER, sticker="abc123")
    typing = await call(client, "sendChatAction", chat_id=USER, action="typing")
    no_photo = await call(client, "sendPhoto", chat_id=USER)
    assert photo["ok"] and sticker["ok"] and typing == {"ok": True, "result": True}
    assert no_photo["ok"] is False and no_photo["error_code"] == 400
    kinds = [(m.kind, m.photo, m.caption, m.sticker) for m in zalo.bot_messages(USER)]
    assert kinds == [
        ("photo", "https://example.org/p.png", "Lịch", None),
        ("sticker", None, None, "abc123"),
    ]
    assert zalo.chat_actions == [(USER, "typing")]


async def test_redeliver_hands_out_a_duplicate(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    message_id = zalo.user_says(USER, "đăng ký")
    first = await call(client, "getUpdates", timeout=1)
    zalo.redeliver(message_id)
    again = await call(client, "getUpdates", timeout=1)
    assert again["result"] == first["result"]
    with pytest.raises(LookupError):
        zalo.redeliver("nope")


async def test_fail_next_injects_errors(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.fail_next("sendMessage", 429, "quota exceeded", times=2)
    results = [await call(client, "sendMessage", chat_id=USER, text="hi") for _ in range(3)]
    assert [r.get("error_code") for r in results] == [429, 429, None]
    assert results[2]["ok"] and zalo.answers_429 == 2 and zalo.sends_accepted == 1


async def test_blocked_user(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.block(USER)
    blocked = await call(client, "sendMessage", chat_id=USER, text="nhắc lịch")
    assert blocked == {"ok": False, "error_code": 403, "description": "user has blocked the bot"}
    zalo.user_says(USER, "chào")  # writing to the bot unblocks it
    assert (await call(client, "sendMessage", chat_id=USER, text="chào lại"))["ok"]


async def test_quota_when_limits_are_on() -> None:
    fake = FakeZalo(TOKEN, limits=True, rate=2)
    await fake.start()
    try:
        async with httpx.AsyncClient(base_url=fake.api_url) as client:
            results = [await call(client, "sendMessage", chat_id=USER, text="x") for _ in range(3)]
        assert [r["ok"] for r in results] == [True, True, False]
        assert results[2] == {"ok": False, "error_code": 429, "description": "quota exceeded"}
        assert fake.answers_429 == 1 and len(fake.bot_messages(USER)) == 2
    finally:
        await fake.stop()


async def test_group_message(zalo: FakeZalo, client: httpx.AsyncClient) -> None:
    zalo.group_says("zg_77", USER, "họp chi đoàn")
    update = (await call(client, "getUpdates", timeout=1))["result"]
    assert update["message"]["chat"] == {"id": "zg_77", "chat_type": "GROUP"}
    assert update["message"]["from"]["id"] == USER


@pytest.mark.parametrize("wrapped", [True, False])
async def test_webhook_delivery(wrapped: bool) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.json(), request.headers.get("X-Bot-Api-Secret-Token")))
        return web.Response(status=503 if len(received) == 1 else 200)

    app = web.Application()
    app.router.add_post("/zalo", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/zalo"
    fake = FakeZalo(TOKEN, wrap_webhook=wrapped, webhook_retry_delay=0.05)
    await fake.start()
    try:
        async with httpx.AsyncClient(base_url=fake.api_url) as client:
            short = await call(client, "setWebhook", url=url, secret_token="short")
            assert short["ok"] is False and short["error_code"] == 400
            assert (await call(client, "setWebhook", url=url, secret_token="s3cret-token"))["ok"]
            busy = await call(client, "getUpdates", timeout=0)
            assert busy["error_code"] == 400 and "deleteWebhook" in busy["description"]
            message_id = fake.user_says(USER, "qua webhook")
            for _ in range(100):
                if len(received) >= 2:
                    break
                await asyncio.sleep(0.02)
            info = await call(client, "getWebhookInfo")
            assert info["result"]["url"] == url and info["result"]["updated_at"] > 0
            assert (await call(client, "deleteWebhook"))["ok"]
    finally:
        await fake.stop()
        await runner.cleanup()
    assert [attempt.status for attempt in fake.webhook_log] == [503, 200]
    bodies = [body for body, _ in received]
    assert bodies[0] == bodies[1]
    update = bodies[0]["result"] if wrapped else bodies[0]
    if wrapped:
        assert bodies[0]["ok"] is True
    assert update["event_name"] == "message.text.received"
    assert update["message"]["message_id"] == message_id
    assert {secret for _, secret in received} == {"s3cret-token"}


async def test_send_dropped_when_client_hangs_up_during_delay(zalo: FakeZalo) -> None:
    zalo.delay_sends(USER, 0.4)
    async with httpx.AsyncClient(base_url=zalo.api_url, timeout=0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/sendMessage", json={"chat_id": USER, "text": "lost"})
    await asyncio.sleep(0.5)
    assert zalo.bot_messages(USER) == [] and zalo.sends_accepted == 0


async def test_wait_for_bot_messages_and_control_api(
    zalo: FakeZalo, client: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=f"{zalo.base_url}/_sandbox") as control:
        said = await control.post("/user_says", json={"user_id": USER, "text": "/start"})
        assert said.json()["ok"]
        update = await call(client, "getUpdates", timeout=1)
        assert update["result"]["message"]["message_id"] == said.json()["result"]
        await call(client, "sendMessage", chat_id=USER, text="Chào bạn")
        [message] = await zalo.wait_for_bot_messages(USER, 1, timeout=1)
        assert message.text == "Chào bạn"
        with pytest.raises(asyncio.TimeoutError, match="Chào bạn"):
            await zalo.wait_for_bot_messages(USER, 2, timeout=0.1)
        transcript = (await control.get("/transcript", params={"chat_id": USER})).json()
        assert [(m["sender"], m["text"]) for m in transcript["result"]] == [
            ("user", "/start"),
            ("bot", "Chào bạn"),
        ]
        failed = await control.post(
            "/fail_next", json={"method": "getMe", "error_code": 500, "description": "boom"}
        )
        assert failed.json()["ok"]
        assert (await call(client, "getMe"))["error_code"] == 500
        bad = await control.post("/redeliver", json={"message_id": "nope"})
        assert bad.status_code == 400


def test_new_user_id_looks_real() -> None:
    assert re.fullmatch(r"\d{16,20}", new_user_id())
