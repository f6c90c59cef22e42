"""``doanbot oneplusone report|export`` and ``units set … oneplusone_target``, as an operator
runs them (arguments in, text, files and exit codes out), on the hand-made province of
``tests.test_oneplusone_report``: SQLite and, with DOANBOT_TEST_DATABASE_URL, PostgreSQL.
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
from tests.test_oneplusone_report import people_names, seed_province

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
TOTALS = (
    "67% chi đoàn thực hiện (2/3), 7 thanh niên tham gia, 1 vào Đoàn, 1 vào Hội; "
    "4/8 đoàn viên đạt chỉ tiêu."
)


class Doanbot:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, ["--database-url", self.url, *args], env=env)

    def audit(self) -> list[tuple[str, str]]:
        async def go() -> list[tuple[str, str]]:
            db = Database(self.url)
            try:
                async with unit_of_work(db) as uow:
                    rows = await uow.session.execute(
                        text("SELECT action, actor FROM audit_log WHERE action LIKE 'oneplusone.%'")
                    )
                    return [(str(a), str(b)) for a, b in rows.all()]
            finally:
                await db.dispose()

        return asyncio.run(go())


@pytest.fixture
def doanbot(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Doanbot:
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
    return Doanbot(database_url)


def test_report_of_a_province_is_the_roll_up(doanbot: Doanbot) -> None:
    result = doanbot("oneplusone", "report", "AP", "--year", "2026")
    assert result.exit_code == 0, result.output
    assert "Tỉnh đoàn An Phú, năm 2026" in result.output and TOTALS in result.output
    assert "• Đoàn xã Phú Thịnh: 1/2 chi đoàn, 4 thanh niên, 3/6 đoàn viên đạt" in result.output
    for name in people_names():
        assert name not in result.output
    assert doanbot.audit() == []  # reading is not an export


def test_report_of_a_branch_names_its_people(doanbot: Doanbot) -> None:
    result = doanbot("oneplusone", "report", "AP-PT-A1", "--year", "2026")
    assert result.exit_code == 0, result.output
    assert "⬜ Lê Văn Cường – 0/1 (chưa vào bot)" in result.output
    assert "Phạm Thu" in result.output
    last_year = doanbot("oneplusone", "report", "AP-PT-A1", "--year", "2025")
    assert "3️⃣ Thực hiện: 1 thanh niên tham gia" in last_year.output  # Bế Ly, in 2025


def test_this_year_by_default(doanbot: Doanbot) -> None:
    result = doanbot("oneplusone", "report", "BT")
    assert result.exit_code == 0, result.output
    today = datetime.now(UTC).astimezone(VIETNAM)
    assert f"năm {today.year} (tính đến {today:%d/%m/%Y})" in result.output


def test_export_writes_the_workbook_and_records_it(doanbot: Doanbot, tmp_path: Path) -> None:
    out = tmp_path / "1-1.xlsx"
    result = doanbot("oneplusone", "export", "AP", "--year", "2026", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Đã lưu báo cáo vào {out}." in result.output
    book = load_workbook(out)
    assert book.sheetnames == ["Tổng hợp", "Theo đơn vị", "Từng chi đoàn"]
    codes = [r[0] for r in book["Từng chi đoàn"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["AP-PT-A1", "AP-PT-A2", "AP-TH-12A1"]
    assert doanbot.audit() == [("oneplusone.report_exported", "cli")]

    named = doanbot("oneplusone", "export", "AP-PT-A1", "--year", "2026")  # default name
    assert named.exit_code == 0, named.output
    [default] = list(tmp_path.glob("bao-cao-1-1-AP-PT-A1-2026-*.xlsx"))
    assert load_workbook(default).sheetnames[-2:] == ["Đoàn viên", "Thanh niên"]


def test_refusals(doanbot: Doanbot, tmp_path: Path) -> None:
    unknown = doanbot("oneplusone", "report", "XX")
    assert unknown.exit_code == 1 and "Không có đơn vị mã “XX”" in unknown.output
    future = doanbot("oneplusone", "report", "AP", "--year", "2999")
    assert future.exit_code == 1 and "Năm 2999 không hợp lệ" in future.output
    garbage = doanbot("oneplusone", "report", "AP", "--year", "năm nay")
    assert garbage.exit_code == 2
    csv = doanbot("oneplusone", "export", "AP", "--out", str(tmp_path / "report.csv"))
    assert csv.exit_code == 1 and ".xlsx" in csv.output
    nowhere = doanbot("oneplusone", "export", "AP", "--out", str(tmp_path / "no" / "r.xlsx"))
    assert nowhere.exit_code == 1 and "thư mục không tồn tại" in nowhere.output
    assert doanbot.audit() == []


def test_a_unit_setting_changes_the_target(doanbot: Doanbot) -> None:
    before = doanbot("oneplusone", "report", "AP-PT", "--year", "2026")
    assert "3/6 đoàn viên đạt chỉ tiêu" in before.output
    saved = doanbot("units", "set", "AP-PT", "oneplusone_target=2")
    assert saved.exit_code == 0, saved.output
    after = doanbot("oneplusone", "report", "AP-PT", "--year", "2026")
    # Now 2 per member: only An (2) reached it; a branch of 4 needs 8.
    assert "1/6 đoàn viên đạt chỉ tiêu" in after.output
    assert "🎯 Chỉ tiêu: mỗi đoàn viên vận động 2 thanh niên." in after.output
    branch = doanbot("oneplusone", "report", "AP-PT-A1", "--year", "2026")
    assert "🎯 Đoàn viên đạt chỉ tiêu: 1/4 (mỗi người 2 thanh niên)" in branch.output
    assert "⬜ Phạm Thị Dung – 1/2" in branch.output
    elsewhere = doanbot("oneplusone", "report", "BT-A", "--year", "2026")
    assert "(mỗi người 1 thanh niên)" in elsewhere.output  # another province: untouched


@pytest.mark.parametrize("value", ["0", "-1", "hai", "1.5", ""])
def test_a_target_must_be_a_whole_number_from_one(doanbot: Doanbot, value: str) -> None:
    result = doanbot("units", "set", "AP", f"oneplusone_target={value}")
    assert result.exit_code == 1
    assert f'Giá trị "{value}" không hợp lệ cho oneplusone_target.' in result.output
    report = doanbot("oneplusone", "report", "AP", "--year", "2026")
    assert "mỗi đoàn viên vận động 1–2 thanh niên" in report.output  # nothing was saved


def test_english_operator(doanbot: Doanbot) -> None:
    result = doanbot(
        "oneplusone", "report", "AP", "--year", "2026", env={"DOANBOT_DEFAULT_LOCALE": "en"}
    )
    assert result.exit_code == 0, result.output
    assert "67% of branches carried it out (2/3), 7 young people took part" in result.output


@pytest.mark.parametrize(("value", "ok"), [("1", True), ("26", True), ("27", False), ("0", False)])
def test_a_reminder_day_fits_every_month(doanbot: Doanbot, value: str, ok: bool) -> None:
    result = doanbot("units", "set", "AP", f"oneplusone_reminder_day={value}")
    assert (result.exit_code == 0) is ok, result.output
