"""The committee's "1+2" report through the real bot process, on both fake servers.

Cadres and their days are written straight into the database; the bot's clock is
moved to mid-July 2027. A standing committee member on Telegram takes today's report
and the Excel document; an inspector (UBKT) on Zalo types 30/06/2027 and gets the text
and a link that serves the file. Days after the day asked for never count.
"""

from __future__ import annotations

import asyncio
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.sandbox.fake_telegram import FakeTelegram
from storage.db import Database
from storage.models import (
    FieldCadre,
    FieldVisit,
    FieldVisitDay,
    Media,
    PersonStatus,
    Role,
    VisitExemption,
)
from storage.uow import unit_of_work
from tests.e2e.conftest import Sandbox
from tests.e2e.test_meetings_e2e import join_telegram, join_zalo
from tests.e2e.test_polls_e2e import expect, press, says, seen

pytestmark = [pytest.mark.e2e, pytest.mark.single_backend]
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STANDING, INSPECTOR = 861, "zi_862"


def days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


async def seed_cadres(url: str) -> None:
    """Three cadres of the province office: 61 days, 10 days (+5 after mid-July), exempt;
    and the Zalo member made an inspector of the province."""
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            office = await uow.units.by_code("AP-CQ")
            commune = await uow.units.by_code("AP-PT")
            province = await uow.units.by_code("AP")
            assert office and commune and province and office.id and commune.id
            entries = {
                "Nguyễn Thị Hạnh": [days(date(2027, 2, 1), 61)],
                "Trần Văn Quang": [days(date(2027, 5, 3), 10), days(date(2027, 7, 20), 5)],
                "Lê Thị Thu": [],
            }
            for name, spans in entries.items():
                person = await uow.people.add(name, "vi", PersonStatus.ACTIVE)
                assert person.id is not None
                uow.session.add(FieldCadre(person_id=person.id, unit_id=office.id))
                for span in spans:
                    visit = FieldVisit(
                        person_id=person.id,
                        unit_id=commune.id,
                        kind="activity",
                        note="Phối hợp tổ chức Ngày hội thanh niên",
                        first_day=span[0],
                        last_day=span[-1],
                    )
                    uow.session.add(visit)
                    await uow.session.flush()
                    assert visit.id is not None
                    uow.session.add_all(
                        FieldVisitDay(visit_id=visit.id, day=d, person_id=person.id) for d in span
                    )
                if not spans:
                    uow.session.add(
                        VisitExemption(
                            person_id=person.id, reason="party_work", starts_on=date(2027, 1, 1)
                        )
                    )
            identity = await uow.people.identity("zalo", INSPECTOR)
            assert identity is not None
            person = await uow.people.get(identity.person_id)
            assert person is not None
            await uow.people.add_membership(person, province, Role.INSPECTOR)
            await uow.commit()
    finally:
        await db.dispose()


async def press_when_shown(tg: FakeTelegram, user: int, label: str) -> None:
    """Press ``label`` once the bot has sent it (replies to one chat come a second apart)."""
    for _ in range(150):
        if any(label in b.get("text", "") for m in tg.bot_messages(user) for b in m.inline_buttons):
            press(tg, user, label)
            return
        await asyncio.sleep(0.1)
    raise AssertionError(tg.format_transcript(user))


async def stored_file(url: str, name: str) -> bytes:
    db = Database(url)
    try:
        async with unit_of_work(db) as uow:
            found = await uow.session.exec(select(Media).where(Media.name == name))
            return found.one().data
    finally:
        await db.dispose()


async def test_standing_on_telegram_and_inspector_on_zalo_read_the_report(
    sandbox: Sandbox,
) -> None:
    tg, zl = sandbox.telegram, sandbox.zalo
    await join_telegram(sandbox, STANDING, sandbox.codes["AP/standing"], "Phạm Minh Tuấn")
    await join_zalo(sandbox, INSPECTOR, sandbox.codes["AP-PT-A1/member"], "Đặng Thị Kim")
    await seed_cadres(sandbox.database_url)
    sandbox.move_clock_to(datetime(2027, 7, 15, 9, 0, tzinfo=TZ))

    # Telegram: today (15/07/2027), then the Excel document.
    await says(tg, STANDING, "/baocao12", "tính đến ngày nào")
    after = seen(tg, STANDING)
    await press_when_shown(tg, STANDING, "Hôm nay")
    body = await expect(tg, STANDING, "Tính đến ngày", after=after)
    assert (
        "Tính đến ngày 15/07/2027, 2/3 cán bộ thuộc diện “1+2” đã đi cơ sở; 50% số đã đi đạt "
        "60 ngày; 1 chưa đi (1 làm công tác Đảng, được miễn)."
    ) in body
    assert "• Trần Văn Quang (Chi đoàn cơ quan Tỉnh đoàn): 10/60 ngày" in body
    after = seen(tg, STANDING)
    await press_when_shown(tg, STANDING, "Tải file Excel")
    for _ in range(150):
        documents = [m for m in tg.bot_messages(STANDING)[after:] if m.kind == "document"]
        if documents:
            break
        await asyncio.sleep(0.1)
    assert documents, tg.format_transcript(STANDING)
    name = "bao-cao-1-2-AP-20270715.xlsx"
    assert documents[0].document == name and (documents[0].file_size or 0) > 1000
    book = load_workbook(io.BytesIO(await stored_file(sandbox.database_url, name)))
    assert len(list(book["Từng ngày"].iter_rows(min_row=2))) == 61 + 10

    # Zalo: the inspector types a day in the middle of the year; the file comes as a link.
    await says(zl, INSPECTOR, "bao cao di co so", "tính đến ngày nào")
    await says(zl, INSPECTOR, "32/13", "chưa hiểu ngày này")
    text = await says(zl, INSPECTOR, "30/06/2027", "Tính đến ngày 30/06/2027")
    assert "2/3 cán bộ thuộc diện “1+2” đã đi cơ sở; 50% số đã đi đạt 60 ngày" in text
    link_text = await says(zl, INSPECTOR, "tai file excel", r"https?://\S+/media/")
    url = re.search(r"https?://\S+/media/\S+", link_text).group(0)  # type: ignore[union-attr]
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    summary = {r[0]: r[1] for r in book["Tổng hợp"].iter_rows(values_only=True) if r[0]}
    assert summary["Tính đến ngày"] == datetime(2027, 6, 30)
    assert summary["Cán bộ thuộc diện “1+2”"] == 3 and summary["Đạt chỉ tiêu"] == 1
    rows = list(book["Từng ngày"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == 71 and max(r[1] for r in rows) <= datetime(2027, 6, 30)
