"""The operator CLI, as an operator runs it: arguments in, text and exit code out."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import sqlite3
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlmodel import select
from typer.testing import CliRunner, Result

from bot.cli import app
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Invite, PersonStatus
from storage.uow import unit_of_work

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
TABLES = ("unit", "person", "membership", "invite", "audit_log")

PROVINCE = (
    "code,name,kind,parent_code\n"
    "AP-PT-A1,Chi đoàn ấp 1,branch,AP-PT\n"
    "AP-PT,Đoàn xã Phú Thịnh,grassroots,AP\n"
    "AP,Tỉnh đoàn An Phú,province,\n"
    "AP-PT-A2,Chi đoàn ấp 2,branch,AP-PT\n"
    "AP-TH,Đoàn trường THPT An Phú,grassroots,AP\n"
)


class Cli:
    """Runs ``doanbot --database-url … ARGS`` against one migrated SQLite file."""

    def __init__(self, path: Path, tmp_path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"
        self.tmp_path = tmp_path

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, ["--database-url", self.url, *args], env=env)

    def file(self, name: str, text: str, *, bom: bool = False) -> str:
        path = self.tmp_path / name
        path.write_text(text, encoding="utf-8-sig" if bom else "utf-8")
        return str(path)

    def counts(self) -> dict[str, int]:
        with sqlite3.connect(self.path) as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql).fetchall()

    def expiry(self, code: str) -> str:
        """The invite's expiry as the operator should read it: dd/mm/yyyy, Vietnam time."""
        [(stored,)] = self.rows(f"SELECT expires_at FROM invite WHERE code = '{code}'")
        utc = datetime.fromisoformat(str(stored)).replace(tzinfo=UTC)
        return utc.astimezone(VIETNAM).strftime("%d/%m/%Y")


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default settings: no .env and no DOANBOT_* variables of the developer's or CI's."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DOANBOT_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def cli(tmp_path: Path, clean_env: None) -> Cli:
    path = tmp_path / "cli.sqlite3"
    upgrade(f"sqlite:///{path}")
    return Cli(path, tmp_path)


@pytest.fixture
def province(cli: Cli) -> Cli:
    result = cli("units", "import", cli.file("province.csv", PROVINCE))
    assert result.exit_code == 0, result.output
    return cli


def test_db_upgrade_creates_the_schema(tmp_path: Path, clean_env: None) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'bot.sqlite3'}"
    result = CliRunner().invoke(app, ["--database-url", url, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Cơ sở dữ liệu đã ở phiên bản mới nhất" in result.output
    with sqlite3.connect(tmp_path / "fresh" / "bot.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM unit").fetchone() == (0,)


def test_help_lists_the_commands(cli: Cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("db", "units", "members", "invite", "run", "demo"):
        assert command in result.output


# --- units -----------------------------------------------------------------------------


def test_units_import_csv_and_list_the_tree(cli: Cli) -> None:
    result = cli("units", "import", cli.file("province.csv", PROVINCE))
    assert result.exit_code == 0, result.output
    assert "Đã nhập xong: 5 đơn vị mới, 0 cập nhật, 0 không đổi." in result.output

    result = cli("units", "list")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "AP  Tỉnh đoàn An Phú (province)",
        "    AP-PT  Đoàn xã Phú Thịnh (grassroots)",
        "        AP-PT-A1  Chi đoàn ấp 1 (branch)",
        "        AP-PT-A2  Chi đoàn ấp 2 (branch)",
        "    AP-TH  Đoàn trường THPT An Phú (grassroots)",
    ]
    result = cli("units", "list", "--unit", "AP-PT")
    assert result.output.splitlines() == [
        "AP-PT  Đoàn xã Phú Thịnh (grassroots)",
        "    AP-PT-A1  Chi đoàn ấp 1 (branch)",
        "    AP-PT-A2  Chi đoàn ấp 2 (branch)",
    ]


def test_units_list_empty_and_unknown(cli: Cli) -> None:
    assert "Chưa có đơn vị nào" in cli("units", "list").output
    result = cli("units", "list", "--unit", "NOPE")
    assert result.exit_code == 1
    assert "Không có đơn vị mã “NOPE”" in result.output


def test_units_import_xlsx(cli: Cli) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "name", "kind", "parent_code"])
    sheet.append(["HN-01", "Chi đoàn 1", "branch", "HN"])
    sheet.append(["HN", "Thành đoàn Hà Nội", "city", None])
    path = cli.tmp_path / "units.xlsx"
    book.save(path)
    result = cli("units", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "2 đơn vị mới" in result.output
    assert cli("units", "list").output.splitlines() == [
        "HN  Thành đoàn Hà Nội (city)",
        "    HN-01  Chi đoàn 1 (branch)",
    ]


def test_semicolon_csv_with_bom_as_excel_writes_it(cli: Cli) -> None:
    text = (
        "Code;Name;Kind;Parent_code\r\n"
        "AP;Tỉnh đoàn An Phú;province;\r\n"
        "AP-CQ;Chi đoàn cơ quan;branch;AP\r\n"
    )
    result = cli("units", "import", cli.file("excel.csv", text, bom=True))
    assert result.exit_code == 0, result.output
    assert "2 đơn vị mới" in result.output
    assert cli.rows("SELECT code, name, depth FROM unit ORDER BY path") == [
        ("AP", "Tỉnh đoàn An Phú", 0),
        ("AP-CQ", "Chi đoàn cơ quan", 1),
    ]


def test_reimport_updates_and_moves(province: Cli) -> None:
    cli = province
    again = (
        "code,name,kind,parent_code\n"
        "AP-PT,Đoàn xã Phú Thịnh,grassroots,AP-TH\n"
        "AP-PT-A1,Chi đoàn ấp Một,branch,AP-PT\n"
        "AP-PT-A2,Chi đoàn ấp 2,branch,AP-PT\n"
    )
    result = cli("units", "import", cli.file("again.csv", again))
    assert result.exit_code == 0, result.output
    assert "Đã nhập xong: 0 đơn vị mới, 2 cập nhật, 1 không đổi." in result.output
    assert "Đã chuyển sang cấp trên mới: AP-PT." in result.output
    assert cli("units", "list", "--unit", "AP-TH").output.splitlines() == [
        "AP-TH  Đoàn trường THPT An Phú (grassroots)",
        "    AP-PT  Đoàn xã Phú Thịnh (grassroots)",
        "        AP-PT-A1  Chi đoàn ấp Một (branch)",
        "        AP-PT-A2  Chi đoàn ấp 2 (branch)",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "code,name,kind,parent_code\nNEW,Chi đoàn mới,branch,NOWHERE\n",
            "Dòng 2: Đơn vị cấp trên “NOWHERE” của “NEW” không có trong tệp lẫn trong cơ sở dữ",
        ),
        (
            "code,name,kind,parent_code\nX1,Một,branch,AP\nX1,Hai,branch,AP\n",
            "Dòng 3: Mã “X1” bị trùng với dòng 2.",
        ),
        (
            "code,name,kind,parent_code\nX1,Một,branch,X2\nX2,Hai,branch,X1\n",
            "Dòng 2: Cấp trên bị vòng lặp: X1 → X2 → X1.",
        ),
        (
            "code,name,kind,parent_code\nAP,Tỉnh đoàn An Phú,province,AP-PT-A1\n",
            "Dòng 2: Cấp trên bị vòng lặp: AP → AP-PT-A1 → AP-PT → AP.",
        ),
        ("code,ten,kind,parent_code\nX1,Một,branch,AP\n", "Dòng 1: Thiếu cột “name”."),
    ],
)
def test_invalid_units_file_changes_nothing(province: Cli, text: str, message: str) -> None:
    cli = province
    before = cli.counts()
    paths = cli.rows("SELECT code, path, name FROM unit ORDER BY code")
    result = cli("units", "import", cli.file("bad.csv", text))
    assert result.exit_code == 1
    assert "Không nhập được tệp bad.csv" in result.stderr
    assert "Chưa có thay đổi nào được lưu." in result.stderr
    assert message in result.stderr
    assert cli.counts() == before
    assert cli.rows("SELECT code, path, name FROM unit ORDER BY code") == paths


def test_bad_header_shows_the_expected_one(cli: Cli) -> None:
    result = cli("units", "import", cli.file("bad.csv", "ma,ten\nA,B\n"))
    assert result.exit_code == 1
    assert "Dòng 1: Cột “ma” không có trong mẫu." in result.output
    assert "Dòng 1: Dòng tiêu đề phải là: code,name,kind,parent_code" in result.output


def test_many_errors_are_cut_short(cli: Cli) -> None:
    rows = "".join(f"U{i},,branch,\n" for i in range(30))
    result = cli("units", "import", cli.file("bad.csv", "code,name,kind,parent_code\n" + rows))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Không nhập được tệp bad.csv: có 30 lỗi. Chưa có thay đổi nào được lưu."
    assert len([line for line in lines if "Dòng" in line]) == 20
    assert lines[-1].strip() == "… và 10 lỗi khác."
    assert cli.counts()["unit"] == 0


def test_missing_file(cli: Cli) -> None:
    result = cli("units", "import", "nope.csv")
    assert result.exit_code == 1
    assert "Không tìm thấy tệp nope.csv." in result.output


def test_database_not_migrated(tmp_path: Path, clean_env: None) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = CliRunner().invoke(app, ["--database-url", url, "units", "list"])
    assert result.exit_code == 1
    assert "doanbot db upgrade" in result.output


def test_db_upgrade_failure_is_reported(tmp_path: Path, clean_env: None) -> None:
    url = "postgresql://doanbot:secret@127.0.0.1:1/nowhere"  # nothing listens on port 1
    result = CliRunner().invoke(app, ["--database-url", url, "db", "upgrade"])
    assert result.exit_code == 1
    assert "Không cập nhật được cơ sở dữ liệu (postgresql://doanbot:***@127.0.0.1:1/nowhere)" in (
        result.stderr
    )
    assert "secret" not in result.output


# --- members -----------------------------------------------------------------------------

MEMBERS = (
    "full_name,unit_code,role\n"
    "nguyễn văn an,AP-PT-A1,Đoàn viên\n"
    "Trần Thị Bình,AP-PT-A1,BÍ THƯ\n"
    "\n"
    "Lê Văn Cường,AP-PT,Phó Bí thư\n"
    "Phạm Thị Dung,AP,ban thường vụ\n"
)


def test_members_import_with_vietnamese_roles_and_codes_out(province: Cli) -> None:
    cli = province
    out = cli.tmp_path / "ma-moi.csv"
    result = cli(
        "members",
        "import",
        cli.file("members.csv", MEMBERS),
        "--codes-out",
        str(out),
        env={"DOANBOT_TELEGRAM_BOT_USERNAME": "doan_ap_bot"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Họ", "tên", "Đơn", "vị", "Vai", "trò", "Mã", "mời"]
    invites = dict(
        cli.rows("SELECT p.full_name, i.code FROM invite i JOIN person p ON p.id = i.person_id")
    )
    assert set(invites) == {"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"}
    table = "\n".join(lines)
    assert re.search(rf"Nguyễn Văn An +Chi đoàn ấp 1 +đoàn viên +{invites['Nguyễn Văn An']}", table)
    assert re.search(rf"Trần Thị Bình +Chi đoàn ấp 1 +bí thư +{invites['Trần Thị Bình']}", table)
    assert re.search(
        rf"Lê Văn Cường +Đoàn xã Phú Thịnh +phó bí thư +{invites['Lê Văn Cường']}", table
    )
    assert re.search(
        rf"Phạm Thị Dung +Tỉnh đoàn An Phú +Ban Thường vụ +{invites['Phạm Thị Dung']}", table
    )
    expiry = cli.expiry(invites["Nguyễn Văn An"])
    assert (
        "Đã thêm 4 người vào danh sách. Mỗi người có một mã mời riêng, dùng một lần, "
        f"hạn đến {expiry}." in result.output
    )
    assert f"Đã lưu danh sách mã mời vào {out}." in result.output

    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # so Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "Họ tên",
        "Mã đơn vị",
        "Đơn vị",
        "Vai trò",
        "Mã mời",
        "Hạn dùng",
        "Liên kết Telegram",
    ]
    an = next(r for r in rows if r[0] == "Nguyễn Văn An")
    code = invites["Nguyễn Văn An"]
    assert an[1:5] == ["AP-PT-A1", "Chi đoàn ấp 1", "đoàn viên", code]
    assert an[5] == expiry
    assert an[6] == f"https://t.me/doan_ap_bot?start={code}"

    assert cli.rows("SELECT DISTINCT status FROM person") == [(PersonStatus.INVITED.value,)]
    assert cli.rows("SELECT DISTINCT max_uses FROM invite") == [(1,)]
    assert cli.rows("SELECT actor FROM audit_log WHERE action = 'members.imported'") == [("cli",)]


def test_members_import_errors_write_nothing(province: Cli) -> None:
    cli = province
    before = cli.counts()
    text = (
        "full_name,unit_code,role\n"
        "Nguyễn Văn An,AP-PT-A1,đoàn viên\n"
        "Trần Thị Bình,NOWHERE,bí thư\n"
        "Lê Văn 3,AP-PT,đoàn viên\n"
        "Phạm Thị Dung,AP,chủ tịch\n"
    )
    out = cli.tmp_path / "codes.csv"
    result = cli("members", "import", cli.file("members.csv", text), "--codes-out", str(out))
    assert result.exit_code == 1
    assert "Không nhập được tệp members.csv: có 3 lỗi." in result.stderr
    assert "Dòng 3: Không có đơn vị mã “NOWHERE”." in result.stderr
    assert "Dòng 4: Họ tên “Lê Văn 3” chỉ được gồm chữ cái và khoảng trắng." in result.stderr
    assert "Dòng 5: Vai trò “chủ tịch” không hợp lệ." in result.stderr
    assert cli.counts() == before
    assert not out.exists()


def test_members_list_table_and_csv(province: Cli) -> None:
    cli = province
    assert cli("members", "import", cli.file("members.csv", MEMBERS)).exit_code == 0

    async def activate_binh() -> None:
        db = Database(cli.url)
        async with unit_of_work(db) as uow:
            person = next(
                p
                for p, _, _ in await uow.people.in_subtree(await uow.units.by_code("AP"))  # type: ignore[arg-type]
                if p.full_name == "Trần Thị Bình"
            )
            person.status = PersonStatus.ACTIVE
            now = datetime.now(UTC)
            await uow.people.add_identity(person, "zalo", "zu_1", "zu_1", now)
            blocked = await uow.people.add_identity(person, "telegram", "501", "501", now)
            blocked.reachable = False
            await uow.commit()
        await db.dispose()

    asyncio.run(activate_binh())

    result = cli("members", "list", "--unit", "AP-PT")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Họ", "tên", "Đơn", "vị", "Vai", "trò", "Kênh", "Trạng", "thái"]
    body = "\n".join(lines[2:])
    assert re.search(r"Lê Văn Cường +Đoàn xã Phú Thịnh +phó bí thư +— +chưa tham gia", body)
    assert re.search(r"Nguyễn Văn An +Chi đoàn ấp 1 +đoàn viên +— +chưa tham gia", body)
    assert re.search(
        r"Trần Thị Bình +Chi đoàn ấp 1 +bí thư +Telegram \(đã chặn bot\), Zalo +đã tham gia", body
    )
    assert "Phạm Thị Dung" not in result.output  # the province, above AP-PT
    assert len(lines) == 5

    result = cli("members", "list", "--unit", "AP-PT", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["Họ tên", "Đơn vị", "Vai trò", "Kênh", "Trạng thái"]
    assert [
        "Trần Thị Bình",
        "Chi đoàn ấp 1",
        "bí thư",
        "Telegram (đã chặn bot), Zalo",
        "đã tham gia",
    ] in rows
    assert len(rows) == 4


def test_members_list_unknown_unit_and_empty_unit(province: Cli) -> None:
    result = province("members", "list", "--unit", "NOPE")
    assert result.exit_code == 1
    assert "Không có đơn vị mã “NOPE”" in result.stderr
    result = province("members", "list", "--unit", "AP-TH")
    assert result.exit_code == 0
    assert "Đơn vị AP-TH chưa có ai." in result.output


# --- invites -----------------------------------------------------------------------------


def invite_code(output: str) -> str:
    found = re.search(r"Mã mời: ([A-Z0-9]{8})", output)
    assert found, output
    return found.group(1)


def test_invite_create_with_bot_username(province: Cli) -> None:
    result = province(
        "invite",
        "create",
        "--unit",
        "AP-PT-A1",
        "--role",
        "đoàn viên",
        "--uses",
        "40",
        "--days",
        "7",
        env={"DOANBOT_TELEGRAM_BOT_USERNAME": "@doan_ap_bot"},
    )
    assert result.exit_code == 0, result.output
    code = invite_code(result.output)
    lines = result.output.splitlines()
    assert lines[1] == "Đơn vị: Chi đoàn ấp 1 (AP-PT-A1), vai trò: đoàn viên"
    assert lines[2] == f"Hạn dùng: đến ngày {province.expiry(code)}"
    assert lines[3] == "Số lượt dùng: 40"
    assert lines[4] == f"Telegram: mở liên kết https://t.me/doan_ap_bot?start={code}"
    assert lines[5] == f"Zalo: nhắn mã {code} cho bot để tham gia."

    async def stored() -> Invite:
        db = Database(province.url)
        async with unit_of_work(db) as uow:
            invite = (await uow.session.exec(select(Invite).where(Invite.code == code))).one()
        await db.dispose()
        return invite

    invite = asyncio.run(stored())
    assert (invite.role, invite.max_uses, invite.person_id) == ("member", 40, None)
    assert invite.expires_at - invite.created_at == timedelta(days=7)
    assert province.rows("SELECT action, actor FROM audit_log WHERE entity = 'invite'") == [
        ("invite.created", "cli")
    ]


def test_invite_expiry_is_shown_in_vietnam_time(province: Cli) -> None:
    result = province("invite", "create", "--unit", "AP", "--role", "secretary")
    assert result.exit_code == 0, result.output
    code = invite_code(result.output)
    [(expires,)] = province.rows(f"SELECT expires_at FROM invite WHERE code = '{code}'")
    utc = datetime.fromisoformat(str(expires)).replace(tzinfo=UTC)
    assert f"Hạn dùng: đến ngày {(utc + timedelta(hours=7)):%d/%m/%Y}" in result.output
    assert utc - datetime.now(UTC) > timedelta(days=29, hours=23)  # the 30-day default
    assert "Số lượt dùng: không giới hạn" in result.output


def test_invite_create_without_bot_username(province: Cli) -> None:
    result = province(
        "invite",
        "create",
        "--unit",
        "AP-PT",
        "--role",
        "secretary",
        env={"DOANBOT_TELEGRAM_TOKEN": "123:abc"},
    )
    assert result.exit_code == 0, result.output
    code = invite_code(result.output)
    assert "https://t.me/" not in result.output
    assert f"Telegram: gửi mã {code} cho bot." in result.output
    assert "DOANBOT_TELEGRAM_BOT_USERNAME" in result.output
    assert f"Zalo: nhắn mã {code} cho bot để tham gia." in result.output

    result = province("invite", "create", "--unit", "AP-PT", "--role", "secretary")
    assert "Telegram" not in result.output  # no Telegram bot configured at all
    assert "Zalo: nhắn mã" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "NOPE", "--role", "member"], "Không có đơn vị mã “NOPE”"),
        (["--unit", "AP", "--role", "chủ tịch"], "Vai trò “chủ tịch” không hợp lệ"),
        (["--unit", "AP", "--role", "member", "--uses", "0"], "--uses"),
        (["--unit", "AP", "--role", "member", "--days", "0"], "--days"),
    ],
)
def test_invite_create_refuses(province: Cli, args: list[str], message: str) -> None:
    result = province("invite", "create", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert province.counts()["invite"] == 0


def test_english_operator(province: Cli) -> None:
    result = province("members", "list", "--unit", "NOPE", env={"DOANBOT_DEFAULT_LOCALE": "en"})
    assert result.exit_code == 1
    assert "There is no unit with code “NOPE”" in result.stderr


# --- run and demo are declared here, implemented elsewhere --------------------------------


def test_run_hands_the_settings_to_the_runner(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, bool]] = []

    async def run_bot(settings: Any, *, webhook: bool) -> None:
        calls.append((settings.database_url, webhook))

    monkeypatch.setitem(sys.modules, "bot.runner", types.SimpleNamespace(run_bot=run_bot))
    assert cli("run", "--webhook").exit_code == 0
    assert cli("run").exit_code == 0
    assert calls == [(cli.url, True), (cli.url, False)]


def test_demo_calls_the_sandbox(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setitem(
        sys.modules,
        "bot.sandbox.demo",
        types.SimpleNamespace(run_demo=lambda: calls.append("demo")),
    )
    assert cli("demo").exit_code == 0
    assert calls == ["demo"]


def test_units_set_overrides_quiet_hours_and_reminders(cli: Cli) -> None:
    cli("units", "import", cli.file("province.csv", PROVINCE))
    result = cli("units", "set", "AP-PT-A1", "quiet_start=22:00", "member_reminder_hours=3,24")
    assert result.exit_code == 0, result.output
    [(stored,)] = cli.rows("SELECT settings FROM unit WHERE code = 'AP-PT-A1'")
    assert json.loads(stored) == {"quiet_start": "22:00", "member_reminder_hours": [24, 3]}
    bad = cli("units", "set", "AP-PT-A1", "quiet_start=25:00")
    assert bad.exit_code == 1 and "không hợp lệ" in bad.output
    unknown = cli("units", "set", "AP-PT-A1", "volume=11")
    assert unknown.exit_code == 1 and "quiet_start" in unknown.output
    [(kept,)] = cli.rows("SELECT settings FROM unit WHERE code = 'AP-PT-A1'")
    assert json.loads(kept)["quiet_start"] == "22:00"  # a refused change leaves it as it was


def test_units_set_writes_a_provinces_field_visit_rules(cli: Cli) -> None:
    cli("units", "import", cli.file("province.csv", PROVINCE))
    result = cli("units", "set", "AP", "visit_target_days=30", "visit_window_start_month=3")
    assert result.exit_code == 0, result.output
    again = cli("units", "set", "AP", "visit_report_due_days=7")  # merged, not replaced
    assert again.exit_code == 0, again.output
    [(stored,)] = cli.rows("SELECT settings FROM unit WHERE code = 'AP'")
    assert json.loads(stored)["field_visits"] == {
        "target_days": 30,
        "window_start_month": 3,
        "report_due_days": 7,
    }
    bad = cli("units", "set", "AP", "visit_window_start_month=13")
    assert bad.exit_code == 1 and "không hợp lệ" in bad.output
    [(kept,)] = cli.rows("SELECT settings FROM unit WHERE code = 'AP'")
    assert json.loads(kept)["field_visits"]["window_start_month"] == 3
