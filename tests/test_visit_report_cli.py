"""``doanbot visits report``: the committee's "1+2" report from the command line.

Run as an operator runs it (arguments in, text and exit code out) on the hand-made
province of ``tests.test_visit_report``, on SQLite and, with DOANBOT_TEST_DATABASE_URL,
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.db import Database
from storage.uow import unit_of_work
from tests.test_visit_report import seed_province

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
SENTENCE = (
    "Tính đến ngày 15/11/2026, 3/5 cán bộ thuộc diện “1+2” đã đi cơ sở; 67% số đã đi đạt "
    "60 ngày; 2 chưa đi (1 trên 20 năm công tác, được miễn; 1 không được miễn)."
)


class Visits:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(
            app, ["--database-url", self.url, "visits", "report", *args], env=env
        )

    def audit(self) -> list[tuple[str, str]]:
        async def go() -> list[tuple[str, str]]:
            db = Database(self.url)
            try:
                async with unit_of_work(db) as uow:
                    rows = await uow.session.execute(
                        text("SELECT action, actor FROM audit_log WHERE action LIKE 'visits.%'")
                    )
                    return [(str(a), str(b)) for a, b in rows.all()]
            finally:
                await db.dispose()

        return asyncio.run(go())


@pytest.fixture
def visits(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Visits:
    """The hand-made province, and default settings (no .env, no DOANBOT_* variables)."""

    async def seed() -> None:
        db = Database(database_url)
        try:
            async with unit_of_work(db) as uow:
                await seed_province(uow)
                await uow.commit()
        finally:
            await db.dispose()

    asyncio.run(seed())
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DOANBOT_")]:
        monkeypatch.delenv(name)
    return Visits(database_url)


def test_prints_the_report_and_records_nothing(visits: Visits) -> None:
    result = visits("--unit", "AP", "--as-of", "15/11/2026")
    assert result.exit_code == 0, result.output
    assert SENTENCE in result.output
    assert "• Lê Văn Cường (Ban Tuyên giáo): 20/60 ngày" in result.output
    assert visits.audit() == []  # reading is not an export


def test_writes_the_excel_file_and_records_the_export(visits: Visits, tmp_path: Path) -> None:
    out = tmp_path / "bao-cao.xlsx"
    result = visits("--unit", "AP-TG", "--as-of", "15/11/2026", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Đã lưu báo cáo vào {out}." in result.output
    book = load_workbook(out)
    cadres = [row[0] for row in book["Từng cán bộ"].iter_rows(min_row=2, values_only=True)]
    assert cadres == ["Lê Văn Cường", "Trần Thị Bình"]
    assert visits.audit() == [("visits.report_exported", "cli")]


def test_today_by_default(visits: Visits) -> None:
    result = visits("--unit", "BT")
    assert result.exit_code == 0, result.output
    today = datetime.now(UTC).astimezone(VIETNAM).strftime("%d/%m/%Y")
    assert f"Tính đến ngày {today}," in result.output


def test_refusals(visits: Visits, tmp_path: Path) -> None:
    unknown = visits("--unit", "XX")
    assert unknown.exit_code == 1 and "Không có đơn vị mã “XX”" in unknown.output
    bad = visits("--unit", "AP", "--as-of", "32/13/2026")
    assert bad.exit_code == 1 and "Không hiểu ngày “32/13/2026”" in bad.output
    future = visits("--unit", "AP", "--as-of", "01/01/2099")
    assert future.exit_code == 1 and "Ngày 01/01/2099 chưa tới" in future.output
    csv = visits("--unit", "AP", "--out", str(tmp_path / "report.csv"))
    assert csv.exit_code == 1 and ".xlsx" in csv.output
    nowhere = visits("--unit", "AP", "--out", str(tmp_path / "no" / "report.xlsx"))
    assert nowhere.exit_code == 1 and "thư mục không tồn tại" in nowhere.output
    assert visits.audit() == []


def test_english_operator(visits: Visits) -> None:
    result = visits("--unit", "AP", "--as-of", "15/11/2026", env={"DOANBOT_DEFAULT_LOCALE": "en"})
    assert result.exit_code == 0, result.output
    assert "As of 15/11/2026, 3/5 cadres subject to “1+2” went to the grassroots" in result.output
