"""A chart and an Excel file reach both channels through the real bot process.

Telegram gets both uploaded; Zalo gets the chart by a link to the bot's own HTTP
server (the fake fetches it, as Zalo would) and the file as a download link.
"""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from bot.messages import DOCUMENT, PHOTO, Outgoing
from storage.db import Database
from storage.models import PersonStatus
from storage.types import utcnow
from storage.uow import unit_of_work
from tests.e2e.conftest import Sandbox
from tests.test_media import PNG, XLSX, XLSX_DATA

pytestmark = pytest.mark.e2e

TG_USER, ZALO_USER = 1951, "zu_1952"
CAPTION = "Kết quả khảo sát tháng 12"


async def queue_chart_and_file(url: str) -> tuple[str, str]:
    """One member on both channels; a chart then a file queued to each of their chats."""
    now = utcnow()
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            person = await uow.people.add("Ngô Thị Hoa", "vi", PersonStatus.ACTIVE)
            assert person.id is not None
            ttl = timedelta(hours=72)
            chart = await uow.media.put(PNG, "image/png", now=now, ttl=ttl, name="ket-qua.png")
            export = await uow.media.put(XLSX_DATA, XLSX, now=now, ttl=ttl, name="khao-sat-12.xlsx")
            for channel, chat in (("telegram", str(TG_USER)), ("zalo", ZALO_USER)):
                await uow.people.add_identity(person, channel, chat, chat, now)
                for token, kind in ((chart, PHOTO), (export, DOCUMENT)):
                    out = Outgoing(
                        kind="send", chat_id=chat, text=CAPTION, media_token=token, media_kind=kind
                    )
                    await uow.outbox.add(
                        channel, out, now=now, category="broadcast", person_id=person.id
                    )
            await uow.commit()
    finally:
        await db.dispose()
    return chart, export


@pytest.mark.single_backend  # conversation only: PostgreSQL runs its storage in process
async def test_chart_and_file_on_both_channels(sandbox: Sandbox) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    public = sandbox.bot.env["DOANBOT_PUBLIC_URL"]
    tg.add_user(TG_USER)
    chart, export = await queue_chart_and_file(sandbox.database_url)

    photo, document = await tg.wait_for_bot_messages(TG_USER, 2)
    assert (photo.kind, photo.photo, photo.file_size, photo.caption) == (
        "photo",
        "ket-qua.png",
        len(PNG),
        CAPTION,
    )
    assert (document.kind, document.document, document.file_size) == (
        "document",
        "khao-sat-12.xlsx",
        len(XLSX_DATA),
    )

    zalo_photo, zalo_file = await zl.wait_for_bot_messages(ZALO_USER, 2)
    assert zalo_photo.kind == "photo" and zalo_photo.caption == CAPTION
    assert zalo_photo.photo == f"{public}/media/{chart}"
    # The fake fetched the link while the bot waited for sendPhoto: the bot served the PNG.
    assert (zalo_photo.fetched_status, zalo_photo.fetched_type, zalo_photo.fetched_size) == (
        200,
        "image/png",
        len(PNG),
    )
    link = f"{public}/media/{export}"
    assert zalo_file.kind == "text" and zalo_file.text is not None
    assert zalo_file.text.startswith(CAPTION)
    assert f"Tải tệp khao-sat-12.xlsx: {link}" in zalo_file.text
    assert "Link dùng được đến" in zalo_file.text
    async with aiohttp.ClientSession() as http, http.get(link) as response:
        assert response.status == 200
        assert response.content_type == XLSX
        assert 'filename="khao-sat-12.xlsx"' in response.headers["Content-Disposition"]
        assert await response.read() == XLSX_DATA

    # The links' tokens are their secrets: they never reach the log.
    log = sandbox.bot.log()
    assert chart not in log and export not in log
