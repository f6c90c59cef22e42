"""Charts and files: the media table, its HTTP links, the sender and both adapters.

The adapters run against the fake Telegram and Zalo servers in process; the Zalo
fake fetches photo URLs on loopback, so a chart reaching Zalo proves its link works.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import col, select

from bot.app import create_app
from bot.channels import Rejected
from bot.config import Settings
from bot.messages import DOCUMENT, PHOTO, Channel, Choice, Incoming, Outgoing
from bot.sandbox.demo import free_port
from bot.sandbox.fake_telegram import FakeTelegram
from bot.sandbox.fake_zalo import FakeZalo
from bot.sender import OutboxSender
from bot.telegram import TelegramChannel
from bot.zalo.channel import ZaloChannel
from scheduler.jobs import purge_expired_media
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus
from storage.uow import unit_of_work
from tests.support import MovableClock, RecordingChannel
from tests.test_sender import ScriptedChannel, fast_settings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC = "https://doanbot.example.org/"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    """A valid grey PNG, made by hand so tests need no imaging library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()
XLSX_DATA = b"PK\x03\x04" + b"\x00" * 200  # shaped like a zip; nobody opens it here


async def _ignore(_: Incoming) -> bool:
    return True


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def put(
    db: Database,
    now: datetime,
    data: bytes = PNG,
    content_type: str = "image/png",
    *,
    name: str = "",
    hours: float = 72,
) -> str:
    async with unit_of_work(db) as uow:
        token = await uow.media.put(
            data, content_type, now=now, ttl=timedelta(hours=hours), name=name
        )
        await uow.commit()
    return token


async def queue(db: Database, channel: str, out: Outgoing, now: datetime) -> int:
    async with unit_of_work(db) as uow:
        await uow.outbox.add(channel, out, now=now)
        await uow.commit()
        rows = await uow.session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        last = rows.all()[-1].id
    assert last is not None
    return last


async def outbox_row(db: Database, row_id: int) -> OutboxMessage:
    async with unit_of_work(db) as uow:
        row = await uow.session.get(OutboxMessage, row_id)
    assert row is not None
    return row


# --- the message type --------------------------------------------------------------------


def test_outgoing_media_fields_round_trip_without_the_transient_ones() -> None:
    out = Outgoing(
        kind="send",
        chat_id="1",
        text="Kết quả",
        media_token="tok",
        media_kind=PHOTO,
        media_name="ket-qua.png",
        private=True,
        locale="en",
    )
    out.media_data, out.media_url = PNG, "https://x/media/tok"
    data = out.to_json()
    assert "media_data" not in data and "media_url" not in data
    assert "media_expires_at" not in data
    back = Outgoing.from_json(data)
    assert back == out  # the transient fields do not take part in comparisons
    assert back.media_data is None and back.media_url is None
    assert back.media_kind == PHOTO and back.private and back.locale == "en"


def test_old_payloads_and_unknown_keys_still_load() -> None:
    old = {
        "kind": "send",
        "chat_id": "1",
        "text": "hi",
        "choices": [["a", "A"]],
        "nonce": "n",
        "message_ref": None,
        "callback_id": None,
        "photo_url": None,
        "skip_if_no_edit": True,
        "hint": "",
    }
    out = Outgoing.from_json(old)
    assert out.media_token is None and out.media_kind == "" and not out.private
    assert Outgoing.from_json({**old, "added_later": 1}).text == "hi"
    scrubbed = Outgoing(kind="edit", chat_id="9", text="Bạn đã chọn X").scrubbed_json()
    assert scrubbed == {"kind": "edit", "chat_id": "9", "private": True, "scrubbed": True}
    assert Outgoing.from_json(scrubbed).text == ""


# --- the repository ----------------------------------------------------------------------


async def test_put_get_expiry_and_purge(db: Database, clock: MovableClock) -> None:
    now = clock()
    token = await put(db, now, XLSX_DATA, XLSX, name="khao-sat-12.xlsx", hours=1)
    other = await put(db, now, hours=3)
    assert len(token) >= 32 and token != other
    async with unit_of_work(db) as uow:
        media = await uow.media.get(token, now)
        assert media is not None
        assert (media.data, media.content_type, media.name) == (XLSX_DATA, XLSX, "khao-sat-12.xlsx")
        assert media.expires_at == now + timedelta(hours=1)
        assert await uow.media.get("no-such-token", now) is None
        # Expired is gone at once, even before the purge runs.
        assert await uow.media.get(token, now + timedelta(hours=1)) is None
    clock.advance(hours=2)
    assert await purge_expired_media(db, clock) == 1
    async with unit_of_work(db) as uow:
        assert await uow.media.get(other, clock()) is not None
        assert await uow.media.purge_expired(clock()) == 0


async def test_put_refuses_empty_data_and_cuts_long_names(
    db: Database, clock: MovableClock
) -> None:
    async with unit_of_work(db) as uow:
        with pytest.raises(ValueError):
            await uow.media.put(b"", "image/png", now=clock(), ttl=timedelta(hours=1))
        token = await uow.media.put(
            b"x", XLSX, now=clock(), ttl=timedelta(hours=1), name="a/" + "b" * 300 + ".xlsx"
        )
        media = await uow.media.get(token, clock())
    assert media is not None and len(media.name) == 200
    assert media.name.endswith(".xlsx") and "/" not in media.name


# --- the HTTP route ----------------------------------------------------------------------


@pytest.fixture
async def http(database_url: str, clock: MovableClock) -> AsyncIterator[TestClient]:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    application = create_app(settings, clock=clock)
    client = TestClient(TestServer(application.http_app(webhooks=False)))
    await client.start_server()
    yield client
    await client.close()
    await application.db.dispose()


async def test_media_link_serves_the_png_until_it_expires(
    http: TestClient, db: Database, clock: MovableClock
) -> None:
    token = await put(db, clock(), hours=2)
    response = await http.get(f"/media/{token}")
    assert response.status == 200
    assert response.content_type == "image/png"
    assert await response.read() == PNG
    assert response.headers["Cache-Control"] == "private, max-age=7200"
    assert "Content-Disposition" not in response.headers  # shown, not downloaded
    assert (await http.get("/healthz")).status == 200

    clock.advance(hours=2)
    assert (await http.get(f"/media/{token}")).status == 404
    assert (await http.get("/media/unknown-token-of-good-length")).status == 404
    assert (await http.get("/media/bad%20token")).status == 404


async def test_media_link_of_a_file_downloads_under_its_name(
    http: TestClient, db: Database, clock: MovableClock
) -> None:
    token = await put(db, clock(), XLSX_DATA, XLSX, name="khảo-sát-12.xlsx")
    response = await http.get(f"/media/{token}")
    assert response.status == 200
    assert response.content_type == XLSX
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="kh')
    assert "filename*=UTF-8''kh%E1%BA%A3o-s%C3%A1t-12.xlsx" in disposition
    assert await response.read() == XLSX_DATA


def paths(app: web.Application) -> set[str]:
    return {r.resource.canonical for r in app.router.routes() if r.resource is not None}


async def test_webhook_routes_only_in_webhook_mode(database_url: str) -> None:
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    application = create_app(settings)

    async def webhook(_: web.Request) -> web.Response:
        return web.Response()

    application.channels["telegram"] = SimpleNamespace(webhook=webhook)
    try:
        polling = paths(application.http_app(webhooks=False))
        hooks = paths(application.http_app(webhooks=True))
    finally:
        await application.db.dispose()
    assert polling == {"/healthz", "/media/{token}"}
    assert hooks == polling | {"/telegram/webhook"}


# --- the sender --------------------------------------------------------------------------


def sender_for(
    db: Database, database_url: str, clock: MovableClock, channel: RecordingChannel, **kw: object
) -> OutboxSender:
    settings = fast_settings(database_url, **kw)
    return OutboxSender(db, {"telegram": channel}, settings, clock)


async def test_sender_fills_the_bytes_and_the_public_link(
    db: Database, database_url: str, clock: MovableClock
) -> None:
    channel = RecordingChannel(Channel.TELEGRAM)
    sender = sender_for(db, database_url, clock, channel, public_url=PUBLIC)
    chart = await put(db, clock())
    export = await put(db, clock(), XLSX_DATA, XLSX, name="khao-sat-12.xlsx")
    await queue(
        db,
        "telegram",
        Outgoing(kind="send", chat_id="1", text="Kết quả", media_token=chart, media_kind=PHOTO),
        clock(),
    )
    await queue(
        db,
        "telegram",
        Outgoing(kind="send", chat_id="2", text="Tệp", media_token=export, media_kind=DOCUMENT),
        clock(),
    )
    try:
        await sender.drain()
    finally:
        await sender.close()
    photo, document = sorted(channel.delivered, key=lambda o: o.chat_id)
    assert photo.media_data == PNG
    assert photo.media_url == f"https://doanbot.example.org/media/{chart}"
    assert photo.media_name == "chart.png"  # no name given: one from the type
    assert photo.media_expires_at == clock() + timedelta(hours=72)
    assert document.media_data == XLSX_DATA and document.media_name == "khao-sat-12.xlsx"


async def test_expired_media_sends_the_text_alone(
    db: Database, database_url: str, clock: MovableClock
) -> None:
    channel = RecordingChannel(Channel.TELEGRAM)
    sender = sender_for(db, database_url, clock, channel)  # no public URL
    token = await put(db, clock(), hours=1)
    with_text = await queue(
        db,
        "telegram",
        Outgoing(kind="send", chat_id="1", text="Kết quả", media_token=token, media_kind=PHOTO),
        clock(),
    )
    bare = await queue(
        db, "telegram", Outgoing(kind="send", chat_id="2", media_token=token), clock()
    )
    clock.advance(hours=1)
    try:
        await sender.drain()
    finally:
        await sender.close()
    assert [(o.chat_id, o.text, o.media_token, o.media_data) for o in channel.delivered] == [
        ("1", "Kết quả", None, None)
    ]
    # Nothing was left to send of the second one: done, not failed.
    assert (await outbox_row(db, with_text)).status == OutboxStatus.SENT
    assert (await outbox_row(db, bare)).status == OutboxStatus.SENT


async def test_no_public_url_means_no_link(
    db: Database, database_url: str, clock: MovableClock
) -> None:
    channel = RecordingChannel(Channel.TELEGRAM)
    sender = sender_for(db, database_url, clock, channel)
    token = await put(db, clock())
    await queue(
        db,
        "telegram",
        Outgoing(kind="send", chat_id="1", media_token=token, media_kind=PHOTO),
        clock(),
    )
    try:
        await sender.drain()
    finally:
        await sender.close()
    [out] = channel.delivered
    assert out.media_data == PNG and out.media_url is None


async def test_private_rows_are_scrubbed_once_sent_and_not_before(
    db: Database, database_url: str, clock: MovableClock
) -> None:
    channel = ScriptedChannel(Channel.TELEGRAM)
    channel.fail("2", Rejected("Bad Request: chat not found"))
    sender = sender_for(db, database_url, clock, channel)
    picked = Outgoing(
        kind="edit",
        chat_id="1",
        message_ref="5",
        text="Câu 1: Bạn đã chọn Phương án B",
        choices=[Choice("b", "✓ Phương án B")],
        nonce="n1",
        private=True,
    )
    sent = await queue(db, "telegram", picked, clock())
    dead = await queue(
        db, "telegram", Outgoing(kind="send", chat_id="2", text="Bạn chọn A", private=True), clock()
    )
    later = await queue(
        db, "telegram", Outgoing(kind="send", chat_id="3", text="Bạn chọn C", private=True), clock()
    )
    plain = await queue(db, "telegram", Outgoing(kind="send", chat_id="4", text="Chào"), clock())
    async with unit_of_work(db) as uow:  # not due yet: stays pending
        row = await uow.session.get(OutboxMessage, later)
        assert row is not None
        row.not_before = clock() + timedelta(hours=1)
        await uow.commit()
    assert (await outbox_row(db, sent)).payload == picked.to_json()  # before sending: whole
    try:
        await sender.drain()
    finally:
        await sender.close()
    assert [o.text for o in channel.delivered if o.chat_id == "1"] == [picked.text]
    row = await outbox_row(db, sent)
    assert row.status == OutboxStatus.SENT
    assert row.payload == {"kind": "edit", "chat_id": "1", "private": True, "scrubbed": True}
    # A dead row may be retried by an operator and a pending one is still to go: both whole.
    dead_row, later_row = await outbox_row(db, dead), await outbox_row(db, later)
    assert dead_row.status == OutboxStatus.DEAD and dead_row.payload["text"] == "Bạn chọn A"
    assert later_row.status == OutboxStatus.PENDING and later_row.payload["text"] == "Bạn chọn C"
    assert (await outbox_row(db, plain)).payload["text"] == "Chào"  # not private: kept


# --- Telegram: uploads and edits ---------------------------------------------------------


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[FakeTelegram, TelegramChannel]]:
    fake = FakeTelegram("4242:MEDIA")
    await fake.start()
    fake.add_user(77)
    channel = TelegramChannel(fake.token, fake.base_url, _ignore, None)
    yield fake, channel
    await channel.close()
    await fake.stop()


def loaded(out: Outgoing, data: bytes, name: str, url: str | None = None) -> Outgoing:
    """``out`` as the sender hands it to an adapter."""
    out.media_data, out.media_name, out.media_url = data, name, url
    out.media_expires_at = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    return out


async def test_telegram_uploads_a_chart_and_a_file(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, channel = telegram
    chart = Outgoing(
        kind="send", chat_id="77", text="Kết quả khảo sát", media_token="t1", media_kind=PHOTO
    )
    await channel.deliver(loaded(chart, PNG, "ket-qua.png"))
    export = Outgoing(
        kind="send", chat_id="77", text="Tệp Excel", media_token="t2", media_kind=DOCUMENT
    )
    await channel.deliver(loaded(export, XLSX_DATA, "khao-sat-12.xlsx"))
    photo, document = fake.bot_messages(77)
    assert (photo.kind, photo.photo, photo.file_size, photo.caption) == (
        "photo",
        "ket-qua.png",
        len(PNG),
        "Kết quả khảo sát",
    )
    assert (document.kind, document.document, document.file_size, document.caption) == (
        "document",
        "khao-sat-12.xlsx",
        len(XLSX_DATA),
        "Tệp Excel",
    )


async def test_telegram_long_caption_follows_the_photo_with_the_buttons(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, channel = telegram
    text = "Kết quả " + "rất dài " * 200
    out = Outgoing(
        kind="send",
        chat_id="77",
        text=text,
        choices=[Choice("!poll:1:csv", "Tải Excel")],
        media_token="t",
        media_kind=PHOTO,
    )
    await channel.deliver(loaded(out, PNG, "chart.png"))
    photo, caption = fake.bot_messages(77)
    assert photo.kind == "photo" and photo.caption is None and not photo.buttons
    assert (caption.text or "").strip() == text.strip()
    assert caption.buttons == [["Tải Excel"]]


async def test_telegram_edit_keeps_or_drops_the_buttons(
    telegram: tuple[FakeTelegram, TelegramChannel],
) -> None:
    fake, channel = telegram
    options = [Choice("a", "Bóng đá"), Choice("b", "Cầu lông"), Choice("done", "Xong")]
    await channel.deliver(
        Outgoing(kind="send", chat_id="77", text="Chọn môn:", choices=options, nonce="n1")
    )
    [question] = fake.bot_messages(77)
    ticked = [Choice("a", "✓ Bóng đá"), *options[1:]]
    await channel.deliver(
        Outgoing(
            kind="edit",
            chat_id="77",
            message_ref=str(question.message_id),
            text="Chọn môn: (đã chọn 1)",
            choices=ticked,
            nonce="n1",
        )
    )
    [edited] = fake.bot_messages(77)
    assert edited.text == "Chọn môn: (đã chọn 1)"
    assert edited.buttons == [["✓ Bóng đá", "Cầu lông"], ["Xong"]]
    assert edited.inline_buttons[0]["callback_data"] == "n1:a"
    await channel.deliver(
        Outgoing(kind="edit", chat_id="77", message_ref=str(question.message_id), text="Đã lưu.")
    )
    [done] = fake.bot_messages(77)
    assert done.text == "Đã lưu." and done.buttons == []


# --- Zalo: photos by URL, files as links -------------------------------------------------


@pytest.fixture
async def zalo() -> AsyncIterator[tuple[FakeZalo, ZaloChannel]]:
    fake = FakeZalo("555:MEDIA")
    await fake.start()
    channel = ZaloChannel(fake.token, fake.base_url, _ignore, None, locale="vi", tz=TZ)
    yield fake, channel
    await channel.close()
    await fake.stop()


async def test_zalo_file_goes_as_a_link_with_its_end(zalo: tuple[FakeZalo, ZaloChannel]) -> None:
    fake, channel = zalo
    out = Outgoing(
        kind="send", chat_id="zu1", text="Kết quả khảo sát", media_token="t", media_kind=DOCUMENT
    )
    await channel.deliver(loaded(out, XLSX_DATA, "khao-sat-12.xlsx", "https://b.example/media/t"))
    [message] = fake.bot_messages("zu1")
    assert message.text == (
        "Kết quả khảo sát\n\nTải tệp khao-sat-12.xlsx: https://b.example/media/t\n"
        "(Link dùng được đến 21:30 01/12/2026.)"
    )


async def test_zalo_without_a_public_url_says_where_to_look(
    zalo: tuple[FakeZalo, ZaloChannel],
) -> None:
    fake, channel = zalo
    chart = Outgoing(kind="send", chat_id="zu2", text="Kết quả", media_token="t", media_kind=PHOTO)
    await channel.deliver(loaded(chart, PNG, "chart.png"))
    export = Outgoing(kind="send", chat_id="zu2", media_token="t", media_kind=DOCUMENT, locale="en")
    await channel.deliver(loaded(export, XLSX_DATA, "ds.xlsx"))
    first, second = fake.bot_messages("zu2")
    assert first.kind == "text" and first.text is not None
    assert first.text.startswith("Kết quả\n\n(Ảnh kèm theo không gửi được qua Zalo.")
    assert second.text == (
        "(The file ds.xlsx cannot be sent on Zalo. Get it on Telegram or ask your unit for it.)"
    )


async def test_zalo_edit_with_choices_is_skipped_or_sent_numbered(
    zalo: tuple[FakeZalo, ZaloChannel],
) -> None:
    fake, channel = zalo
    options = [Choice("a", "✓ Bóng đá"), Choice("b", "Cầu lông")]
    edit = Outgoing(kind="edit", chat_id="zu3", message_ref="m", text="Chọn môn:", choices=options)
    await channel.deliver(edit)
    assert fake.bot_messages("zu3") == []
    edit.skip_if_no_edit = False
    await channel.deliver(edit)
    [message] = fake.bot_messages("zu3")
    assert message.text == "Chọn môn:\n\n1. ✓ Bóng đá\n2. Cầu lông"


async def test_zalo_gets_the_chart_by_a_link_that_serves_it(
    db: Database, database_url: str, clock: MovableClock
) -> None:
    """Through the sender and the bot's own HTTP route, as in production."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    settings = fast_settings(database_url, public_url=public, zalo_rate_per_second=1000.0)
    application = create_app(settings, clock=clock)
    runner = web.AppRunner(application.http_app(webhooks=False))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake = FakeZalo("556:MEDIA")
    await fake.start()
    channel = ZaloChannel(fake.token, fake.base_url, _ignore, None)
    sender = OutboxSender(db, {"zalo": channel}, settings, clock)
    try:
        token = await put(db, clock())
        await queue(
            db,
            "zalo",
            Outgoing(
                kind="send", chat_id="zu9", text="Biểu đồ", media_token=token, media_kind=PHOTO
            ),
            clock(),
        )
        await sender.drain()
        [message] = fake.bot_messages("zu9")
        assert message.kind == "photo" and message.caption == "Biểu đồ"
        assert message.photo == f"{public}/media/{token}"
        assert (message.fetched_status, message.fetched_type, message.fetched_size) == (
            200,
            "image/png",
            len(PNG),
        )
        clock.advance(hours=72)  # the link ends with the media
        async with aiohttp.ClientSession() as http, http.get(message.photo) as response:
            assert response.status == 404
    finally:
        await sender.close()
        await channel.close()
        await fake.stop()
        await runner.cleanup()
        await application.db.dispose()
