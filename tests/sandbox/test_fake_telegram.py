"""The fake Telegram Bot API, driven by a real aiogram Bot over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from aiogram.types import Message as TgMessage
from aiohttp import web

from bot.sandbox.fake_telegram import FakeTelegram, NoSuchButton, TelegramLimits

TOKEN = "123456:SANDBOX-token"
USER = 1001


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data)] for text, data in pairs
        ]
    )


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN, webhook_retry_delay=0.1)
    await fake.start()
    yield fake
    await fake.stop()


def make_bot(fake: FakeTelegram, token: str = TOKEN) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token, session=session)


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(tg)
    yield bot
    await bot.session.close()


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "doanbot_sandbox_bot"
    assert me.can_join_groups


async def test_wrong_token_and_unknown_method(tg: FakeTelegram) -> None:
    wrong = make_bot(tg, "999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()
    async with httpx.AsyncClient(base_url=tg.base_url) as client:
        response = await client.post(f"/bot{TOKEN}/sendCarrierPigeon")
    assert response.status_code == 404
    assert response.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


async def test_send_message_with_keyboard_round_trips(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    sent = await bot.send_message(
        USER, "Chọn hoạt động", reply_markup=keyboard(("Tham gia", "join:1"), ("Bỏ qua", "skip"))
    )
    assert sent.chat.id == USER and sent.chat.type == "private"
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "join:1"
    [record] = tg.bot_messages(USER)
    assert record.text == "Chọn hoạt động"
    assert record.buttons == [["Tham gia"], ["Bỏ qua"]]
    assert tg.sends_accepted == 1 and tg.sends_per_chat[USER] == 1


async def test_bad_requests(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER, "hello")
    tg.add_user(USER)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, " ")
    with pytest.raises(TelegramBadRequest, match="message text is too long"):
        await bot.send_message(USER, "x" * 4097)
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "hi", reply_markup=keyboard(("A", "d" * 65)))
    assert len(tg.bot_messages(USER)) == 1


async def test_edit_message_text(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    sent = await bot.send_message(USER, "Bước 1", reply_markup=keyboard(("Tiếp", "next")))
    edited = await bot.edit_message_text(
        "Bước 2", chat_id=USER, message_id=sent.message_id, reply_markup=keyboard(("Xong", "done"))
    )
    assert not isinstance(edited, bool) and edited.text == "Bước 2"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Bước 2",
            chat_id=USER,
            message_id=sent.message_id,
            reply_markup=keyboard(("Xong", "done")),
        )
    await bot.edit_message_text("Bước 3", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("?", chat_id=USER, message_id=999)
    [record] = tg.bot_messages(USER)
    assert record.text == "Bước 3"
    assert record.edits == ["Bước 1", "Bước 2"]
    assert record.buttons == []  # editMessageText without reply_markup drops the keyboard


async def test_press_answer_and_update_parsing(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    await bot.set_my_commands([BotCommand(command="start", description="Bắt đầu")])
    sent = await bot.send_message(
        USER, "Có tham gia?", reply_markup=keyboard(("Có", "yes"), ("Không", "no"))
    )
    update_id = tg.press(USER, button="Không")
    assert tg.press(USER, button=1, message_id=sent.message_id) == update_id + 1
    with pytest.raises(NoSuchButton, match="Có thể"):
        tg.press(USER, button="Có thể")

    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [update_id, update_id + 1]
    first = updates[0].callback_query
    assert first is not None and first.data == "no" and first.from_user.id == USER
    assert first.message is not None and first.message.message_id == sent.message_id
    assert updates[1].callback_query is not None and updates[1].callback_query.data == "yes"

    assert await bot.answer_callback_query(first.id, text="Đã ghi nhận")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(first.id)
    assert tg.callback_answers == {first.id: "Đã ghi nhận"}
    assert tg.unanswered_callbacks() == [updates[1].callback_query.id]

    forged = tg.press_data(USER, sent.message_id, "admin:delete_all")
    [update] = await bot.get_updates(offset=update_id + 2, timeout=0)
    assert update.update_id == forged
    assert update.callback_query is not None and update.callback_query.data == "admin:delete_all"


async def test_my_commands_per_language(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Bắt đầu")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Start")],
        scope=BotCommandScopeDefault(),
        language_code="en",
    )
    assert [c.description for c in await bot.get_my_commands()] == ["Bắt đầu"]
    assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
    assert tg.commands() == [{"command": "start", "description": "Bắt đầu"}]
    assert tg.commands("en") == [{"command": "start", "description": "Start"}]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_get_updates_offsets_confirm(tg: FakeTelegram, bot: Bot) -> None:
    first = tg.user_says(USER, "/start", first_name="Lan")
    tg.user_says(USER, "xin chào")
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, first + 1]
    message = updates[0].message
    assert message is not None and message.text == "/start"
    assert message.entities is not None and message.entities[0].type == "bot_command"
    assert message.from_user is not None and message.from_user.first_name == "Lan"
    assert await bot.get_updates(timeout=0) != []  # not confirmed yet
    assert await bot.get_updates(offset=first + 2, timeout=0) == []
    assert await bot.get_updates(timeout=0) == []  # confirmed and gone
    assert [u.update_id for u in await bot.get_updates(limit=1, timeout=0)] == []


async def test_long_poll_wakes_on_new_update(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    tg.user_says(USER, "hello")
    updates = await asyncio.wait_for(poll, 2)
    assert len(updates) == 1
    assert time.monotonic() - started < 1.5


async def test_newer_poll_wins_conflict(tg: FakeTelegram, bot: Bot) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    newer = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(older, 2)
    tg.user_says(USER, "hi")
    assert len(await asyncio.wait_for(newer, 2)) == 1


async def test_rate_limit_answers_429(bot: Bot) -> None:
    fake = FakeTelegram(TOKEN, limits=True, rate_limits=TelegramLimits(private_burst=3))
    await fake.start()
    limited = make_bot(fake)
    try:
        fake.add_user(USER)
        for i in range(3):
            await limited.send_message(USER, f"tin {i}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await limited.send_message(USER, "quá nhanh")
        assert caught.value.retry_after >= 1
        assert fake.answers_429 == 1 and fake.sends_accepted == 3
        assert len(fake.bot_messages(USER)) == 3
    finally:
        await limited.session.close()
        await fake.stop()


async def test_blocked_user_gets_403_until_they_come_back(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    tg.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "nhắc lịch")
    tg.user_says(USER, "/start")  # writing to the bot unblocks it
    await bot.send_message(USER, "chào lại")
    kinds = [u.event_type for u in await bot.get_updates(timeout=0)]
    assert kinds == ["my_chat_member", "my_chat_member", "message"]


async def test_send_photo_and_document(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    photo = await bot.send_photo(
        USER, BufferedInputFile(b"\xff" * 2048, "poster.jpg"), caption="Áp phích"
    )
    assert photo.photo and photo.caption == "Áp phích"
    again = await bot.send_photo(USER, photo.photo[-1].file_id)
    assert again.photo is not None and again.photo[-1].file_id == photo.photo[-1].file_id
    document = await bot.send_document(USER, "https://example.org/files/ke-hoach.pdf")
    assert document.document is not None and document.document.file_name == "ke-hoach.pdf"
    records = tg.bot_messages(USER)
    assert [(m.kind, m.photo or m.document, m.file_size) for m in records] == [
        ("photo", "poster.jpg", 2048),
        ("photo", "poster.jpg", 2048),
        ("document", "ke-hoach.pdf", None),
    ]


async def test_delete_message_and_chat_action(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    sent = await bot.send_message(USER, "tạm")
    assert await bot.send_chat_action(USER, "typing")
    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert tg.bot_messages(USER)[0].deleted
    assert tg.chat_actions == [(USER, "typing")]


async def test_group_chat(tg: FakeTelegram, bot: Bot) -> None:
    update_id = tg.group_says(-5001, USER, "/diemdanh@doanbot_sandbox_bot")
    [update] = await bot.get_updates(timeout=0)
    assert update.update_id == update_id and update.message is not None
    assert update.message.chat.type == "group" and update.message.chat.id == -5001
    await bot.send_message(-5001, "Đã điểm danh")
    assert [m.text for m in tg.bot_messages(-5001)] == ["Đã điểm danh"]


async def test_redeliver_in_polling_mode(tg: FakeTelegram, bot: Bot) -> None:
    update_id = tg.user_says(USER, "đăng ký")
    await bot.get_updates(timeout=0)
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == []
    tg.redeliver(update_id)
    [again] = await bot.get_updates(offset=update_id + 1, timeout=0)
    assert again.update_id == update_id
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == []


async def test_wait_for_bot_messages(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)

    async def reply_later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(USER, "một")
        await bot.send_message(USER, "hai")

    task = asyncio.create_task(reply_later())
    messages = await tg.wait_for_bot_messages(USER, 2, timeout=2)
    await task
    assert [m.text for m in messages] == ["một", "hai"]
    with pytest.raises(asyncio.TimeoutError, match="#2 bot: hai"):
        await tg.wait_for_bot_messages(USER, 3, timeout=0.1)


async def test_send_dropped_when_client_hangs_up_during_delay(tg: FakeTelegram) -> None:
    tg.add_user(USER)
    tg.delay_sends(USER, 0.4)
    async with httpx.AsyncClient(base_url=tg.base_url, timeout=0.1) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": USER, "text": "lost"})
    await asyncio.sleep(0.5)
    assert tg.bot_messages(USER) == [] and tg.sends_accepted == 0
    tg.delay_sends(USER, 0)


async def test_form_and_json_parameters(tg: FakeTelegram) -> None:
    tg.add_user(USER)
    async with httpx.AsyncClient(base_url=f"{tg.base_url}/bot{TOKEN}") as client:
        form = await client.post("/sendMessage", data={"chat_id": str(USER), "text": "form"})
        body = await client.post("/sendMessage", json={"chat_id": USER, "text": "json"})
        query = await client.get("/sendMessage", params={"chat_id": USER, "text": "query"})
        empty = await client.post("/sendMessage", json={"chat_id": USER, "text": ""})
    assert [r.json()["ok"] for r in (form, body, query)] == [True, True, True]
    assert form.json()["result"]["chat"] == {"id": USER, "type": "private", "first_name": "An"}
    assert empty.status_code == 400
    assert empty.json()["description"] == "Bad Request: message text is empty"


async def test_webhook_delivery_secret_retry_and_reply(tg: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[dict[str, object], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        if len(received) == 1:
            return web.Response(status=500)
        update = Update.model_validate(received[-1][0])
        assert update.message is not None
        return web.json_response({"method": "sendMessage", "chat_id": USER, "text": "từ webhook"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        tg.user_says(USER, "trước webhook")
        assert await bot.set_webhook(url, secret_token="s3cret_Token", drop_pending_updates=True)
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates(timeout=0)
        update_id = tg.user_says(USER, "qua webhook")
        await tg.wait_for_bot_messages(USER, 1, timeout=3)
        assert [u["update_id"] for u, _ in received] == [update_id, update_id]
        assert {secret for _, secret in received} == {"s3cret_Token"}
        assert [a.status for a in tg.webhook_log] == [500, 200]
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        assert info.last_error_message is not None

        tg.redeliver(update_id)
        await tg.wait_for_bot_messages(USER, 2, timeout=3)
        assert [u["update_id"] for u, _ in received] == [update_id] * 3
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


async def test_control_http_api(tg: FakeTelegram, bot: Bot) -> None:
    async with httpx.AsyncClient(base_url=f"{tg.base_url}/_sandbox") as client:
        said = await client.post("/user_says", json={"user_id": USER, "text": "/start"})
        assert said.json()["ok"]
        await bot.send_message(USER, "Chào bạn", reply_markup=keyboard(("OK", "ok")))
        pressed = await client.post("/press", json={"user_id": USER, "button": "OK"})
        assert pressed.json()["result"] == said.json()["result"] + 1
        missing = await client.post("/press", json={"user_id": USER, "button": "Nope"})
        assert missing.status_code == 400 and "Nope" in missing.json()["description"]
        transcript = await client.get("/transcript", params={"chat_id": USER})
        rows = [(m["sender"], m["text"], m["buttons"]) for m in transcript.json()["result"]]
        assert rows == [("user", "/start", []), ("bot", "Chào bạn", [["OK"]])]
        waited = await client.get(
            "/wait_for_bot_messages", params={"chat_id": USER, "count": 2, "timeout": 0.1}
        )
        assert waited.status_code == 408
        stats = await client.get("/stats")
        assert stats.json()["result"]["sends_accepted"] == 1


async def test_aiogram_dispatcher_round_trip(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: TgMessage) -> None:
        await message.answer("Chào!", reply_markup=keyboard(("Đăng ký", "reg")))

    @dp.callback_query(F.data == "reg")
    async def register(query: CallbackQuery) -> None:
        await query.answer("Xong")
        assert isinstance(query.message, TgMessage)
        await query.message.edit_text("Đã đăng ký")

    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    try:
        tg.user_says(USER, "/start")
        [greeting] = await tg.wait_for_bot_messages(USER, 1, timeout=3)
        assert greeting.buttons == [["Đăng ký"]]
        tg.press(USER, button="Đăng ký")
        version, deadline = tg.version, time.monotonic() + 3
        while greeting.text != "Đã đăng ký" and time.monotonic() < deadline:
            version = await tg.wait_for_change(version, timeout=1)
        assert greeting.text == "Đã đăng ký" and greeting.edits == ["Chào!"]
        assert list(tg.callback_answers.values()) == ["Xong"]
        assert tg.unanswered_callbacks() == []
    finally:
        await dp.stop_polling()
        await polling


async def test_user_media_updates_parse(tg: FakeTelegram, bot: Bot) -> None:
    tg.user_sends_photo(USER, caption="ảnh hoạt động")
    tg.user_sends_sticker(USER)
    photo, sticker = await bot.get_updates(timeout=0)
    assert photo.message is not None and photo.message.photo and photo.message.caption
    assert sticker.message is not None and sticker.message.sticker is not None
    assert [m.kind for m in tg.transcript(USER)] == ["photo", "sticker"]
