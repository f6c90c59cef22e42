"""``doanbot polls …``: a poll from a YAML/JSON file, listed, closed, cancelled, its results.

Every command runs as an operator runs it (arguments in, text and exit code out), on
SQLite and, with DOANBOT_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.config import Settings
from scheduler.polls import open_poll
from storage.db import Database
from storage.models import PersonStatus, Poll, PollStatus
from storage.uow import UnitOfWork, unit_of_work

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "deploy" / "poll-example.yaml"
T = TypeVar("T")

PROVINCE = (
    "code,name,kind,parent_code\n"
    "AP,Tỉnh đoàn An Phú,province,\n"
    "AP-PT,Đoàn xã Phú Thịnh,grassroots,AP\n"
    "AP-PT-A1,Chi đoàn ấp 1,branch,AP-PT\n"
    "AP-PT-A2,Chi đoàn ấp 2,branch,AP-PT\n"
    "AP-THPT,Đoàn trường THPT An Phú,grassroots,AP\n"
    "AP-THPT-12A1,Chi đoàn 12A1,branch,AP-THPT\n"
    "BT,Tỉnh đoàn Bến Tre,province,\n"
)

# name, status, [(unit, role)], [(channel, reachable)]
PEOPLE: list[tuple[str, PersonStatus, list[tuple[str, str]], list[tuple[str, bool]]]] = [
    ("Nguyễn Văn An", PersonStatus.ACTIVE, [("AP-PT-A1", "member")], [("telegram", True)]),
    (
        "Trần Thị Bình",
        PersonStatus.ACTIVE,
        [("AP-PT-A1", "member"), ("AP-PT-A2", "secretary")],
        [("zalo", True), ("telegram", False)],
    ),
    ("Lê Văn Cường", PersonStatus.ACTIVE, [("AP-PT-A2", "member")], []),
    ("Phạm Thị Dung", PersonStatus.INVITED, [("AP-PT-A1", "member")], []),
    ("Hoàng Văn Em", PersonStatus.ACTIVE, [("AP-THPT-12A1", "member")], [("zalo", True)]),
    ("Võ Thị Phúc", PersonStatus.ACTIVE, [("AP", "standing")], [("telegram", True)]),
    ("Đặng Văn Giang", PersonStatus.ACTIVE, [("BT", "member")], [("zalo", True)]),
]


def local(value: datetime) -> str:
    return value.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def soon(days: float) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(second=0, microsecond=0)


def poll_yaml(**changes: str) -> str:
    """A small valid poll file; ``changes`` replace whole top-level lines (key: value)."""
    lines = {
        "title": "title: Khảo sát nhanh về sinh hoạt chi đoàn",
        "unit": "unit: AP",
        "units": "units: [AP-PT, AP-THPT]",
        "opens": f"opens: {local(soon(1))}",
        "closes": f"closes: {local(soon(10))}",
    }
    lines.update({k: f"{k}: {v}" if v else "" for k, v in changes.items()})
    head = "\n".join(line for line in lines.values() if line)
    return head + (
        "\nquestions:\n"
        "  - text: Bạn có tham gia sinh hoạt đều không?\n"
        "    options: [Có, Không]\n"
        "  - text: Bạn hài lòng đến mức nào?\n"
        "    kind: scale\n"
    )


class Polls:
    """Runs ``doanbot --database-url URL polls …`` and reads the database back."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.tmp_path = tmp_path
        self.settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, ["--database-url", self.url, *args], env=env)

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result.output

    def file(self, name: str, content: str) -> str:
        path = self.tmp_path / name
        path.write_text(content, encoding="utf-8")
        return str(path)

    def run(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async def go() -> T:
            db = Database(self.url)
            try:
                async with unit_of_work(db) as uow:
                    result = await work(uow)
                    await uow.commit()
                    return result
            finally:
                await db.dispose()

        return asyncio.run(go())

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        async def work(uow: UnitOfWork) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in (await uow.session.execute(text(sql))).all()]

        return self.run(work)

    def count(self, table: str) -> int:
        return int(self.rows(f"SELECT count(*) FROM {table}")[0][0])

    def polls(self) -> list[Poll]:
        ids = self.poll_ids()

        async def work(uow: UnitOfWork) -> list[Poll]:
            return [p for p in [await uow.polls.get(i) for i in ids] if p]

        return self.run(work)

    def poll_ids(self) -> list[int]:
        return [int(r[0]) for r in self.rows("SELECT id FROM poll ORDER BY id")]

    def create(self, content: str, name: str = "poll.yaml") -> int:
        output = self.ok("polls", "create", self.file(name, content))
        found = re.search(r"#(\d+)", output)
        assert found, output
        return int(found[1])

    def open(self, poll_id: int) -> int:
        """What the scheduler does when the poll's time comes: recipients and invitations."""

        async def work(uow: UnitOfWork) -> int:
            poll = await uow.polls.get(poll_id)
            assert poll is not None
            return await open_poll(uow, poll, self.settings, datetime.now(UTC))

        return self.run(work)

    def answer(self, poll_id: int, picks: dict[int, list[int]]) -> None:
        """Every recipient answers: question position -> option numbers, the same for all."""

        async def work(uow: UnitOfWork) -> None:
            poll = await uow.polls.get(poll_id)
            assert poll is not None
            questions = {q.position: q for q in await uow.polls.questions(poll_id)}
            rows = await uow.session.execute(
                text("SELECT person_id FROM poll_recipient WHERE poll_id = :p"), {"p": poll_id}
            )
            for (person_id,) in rows.all():
                recipient = await uow.polls.recipient(poll_id, int(person_id))
                assert recipient is not None
                for position, options in picks.items():
                    await uow.polls.save_answer(
                        poll,
                        questions[position],
                        recipient,
                        options,
                        None,
                        secret=self.settings.poll_secret,
                        now=datetime.now(UTC),
                    )
                await uow.polls.set_answered(recipient, True)

        self.run(work)


def add_people(
    polls: Polls,
    people: list[tuple[str, PersonStatus, list[tuple[str, str]], list[tuple[str, bool]]]],
) -> None:
    async def work(uow: UnitOfWork) -> None:
        now = datetime.now(UTC)
        for n, (name, status, roles, accounts) in enumerate(people):
            person = await uow.people.add(name, "vi", status)
            for unit_code, role in roles:
                unit = await uow.units.by_code(unit_code)
                assert unit is not None
                await uow.people.add_membership(person, unit, role)
            for channel, reachable in accounts:
                user = f"{channel}-{person.id}-{n}"
                identity = await uow.people.add_identity(person, channel, user, user, now)
                identity.reachable = reachable

    polls.run(work)


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default settings: no .env and no DOANBOT_* variables of the developer's or CI's."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("DOANBOT_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def polls(database_url: str, tmp_path: Path, clean_env: None) -> Polls:
    """The province above, migrated, with its people."""
    cli = Polls(database_url, tmp_path)
    cli.ok("units", "import", cli.file("province.csv", PROVINCE))
    add_people(cli, PEOPLE)
    return cli


def nothing_stored(polls: Polls) -> None:
    for table in ("poll", "poll_question"):
        assert polls.count(table) == 0, table


# --- create ----------------------------------------------------------------------------


def example_file(opens: datetime, closes: datetime) -> str:
    """deploy/poll-example.yaml with its dates moved to the future."""
    content = EXAMPLE.read_text(encoding="utf-8")
    content = re.sub(r"(?m)^opens: .*$", f"opens: {local(opens)}", content)
    return re.sub(r"(?m)^closes: .*$", f"closes: {local(closes)}", content)


def test_the_example_file_makes_a_poll_with_all_its_questions(polls: Polls) -> None:
    opens, closes = soon(2), soon(14)
    output = polls.ok("polls", "create", polls.file("q4.yaml", example_file(opens, closes)))
    [poll] = polls.polls()
    assert f"Đã tạo khảo sát #{poll.id}: Khảo sát tâm tư, nguyện vọng đoàn viên quý IV/2026" in (
        output
    )
    assert "Đơn vị tổ chức: Tỉnh đoàn An Phú (AP)" in output
    # An, Bình (once, though in two branches), Cường (no account) and Em; not Dung (not
    # joined yet), Phúc (province level) nor Giang (another province).
    assert "Số người sẽ được hỏi (nếu mở lúc này): 4, trong đó 3 người" in output
    assert f"Mở: {local(opens)}; hạn chót: {local(closes)}" in output
    assert "6 câu hỏi; ẩn danh" in output
    assert "Người trả lời sẽ nhận kết quả khi khảo sát đóng." in output

    assert poll.status == PollStatus.SCHEDULED
    assert poll.title == "Khảo sát tâm tư, nguyện vọng đoàn viên quý IV/2026"
    assert poll.intro and poll.intro.startswith("Ban Thường vụ Tỉnh đoàn An Phú mong")
    assert poll.anonymous and poll.results_to_respondents and poll.answer_salt
    assert (poll.opens_at, poll.closes_at) == (opens, closes)
    assert poll.audience_roles == ["member", "secretary", "deputy"]
    units = dict(polls.rows("SELECT id, code FROM unit"))
    assert [units[i] for i in poll.audience_units] == ["AP-PT", "AP-THPT"]
    questions = polls.rows(
        "SELECT position, kind, options, allow_other, required FROM poll_question ORDER BY position"
    )
    assert [(q[0], q[1], q[3], q[4]) for q in questions] == [
        (1, "scale", False, True),
        (2, "single", True, True),
        (3, "multi", True, True),
        (4, "multi", True, True),
        (5, "single", False, False),
        (6, "text", False, False),
    ]
    options = questions[1][2]
    options = json.loads(options) if isinstance(options, str) else options
    assert options[0] == "Đi học (THPT, cao đẳng, đại học)"
    assert polls.rows("SELECT action, actor FROM audit_log WHERE entity = 'poll'") == [
        ("poll.created", "cli")
    ]


def test_dry_run_checks_and_counts_but_stores_nothing(polls: Polls) -> None:
    content = poll_yaml(roles="[bí thư]")
    output = polls.ok("polls", "create", polls.file("p.yaml", content), "--dry-run")
    assert "Tệp hợp lệ (chạy thử): Khảo sát nhanh về sinh hoạt chi đoàn" in output
    assert "vai trò: bí thư" in output
    assert "Số người sẽ được hỏi (nếu mở lúc này): 1, trong đó 1 người" in output  # Bình
    assert "Chạy thử: chưa lưu gì." in output
    nothing_stored(polls)
    assert polls.rows("SELECT count(*) FROM audit_log WHERE entity = 'poll'") == [(0,)]


def test_defaults_owner_unit_everyone_now_and_a_json_file(polls: Polls) -> None:
    closes = soon(5)
    spec = {
        "title": "Góp ý Đại hội",
        "unit": "AP-PT",
        "closes": local(closes),
        "anonymous": False,
        "questions": [{"text": "Ý kiến của bạn?", "kind": "tu luan"}],
    }
    output = polls.ok("polls", "create", polls.file("p.json", json.dumps(spec)))
    assert "Hỏi: AP-PT và các đơn vị trực thuộc; vai trò: tất cả" in output
    assert "Số người sẽ được hỏi (nếu mở lúc này): 3, trong đó 2 người" in output  # + Cường
    assert "Mở: ngay (" in output
    assert "không ẩn danh" in output
    [poll] = polls.polls()
    assert not poll.anonymous and poll.answer_salt is None
    assert poll.audience_roles == [] and poll.closes_at == closes


def test_yaml_dates_and_a_date_alone(polls: Polls) -> None:
    year = datetime.now(UTC).year + 1
    content = poll_yaml(opens=f"{year}-03-01 08:30:00", closes=f"15/03/{year}")
    polls.ok("polls", "create", polls.file("p.yaml", content))
    [poll] = polls.polls()
    assert local(poll.opens_at) == f"01/03/{year} 08:30"  # a naive YAML time is local
    assert local(poll.closes_at) == f"15/03/{year} 23:59"  # a date alone: the end of the day
    content = poll_yaml(opens=f"{year}-03-01", closes=f"{year}-03-15")
    polls.ok("polls", "create", polls.file("p.yaml", content))
    poll = polls.polls()[1]
    assert (local(poll.opens_at), local(poll.closes_at)) == (
        f"01/03/{year} 00:00",
        f"15/03/{year} 23:59",
    )


BAD_FILES = [
    pytest.param(
        poll_yaml() + "  - text: Một câu chỉ có một lựa chọn\n    options: [Duy nhất]\n",
        "dòng 12, questions[3].options: a choice question needs 2 to 10 options",
        id="too-few-options",
    ),
    pytest.param(
        poll_yaml(closes="32/13/2026"),
        "dòng 5, closes: “32/13/2026” không phải ngày giờ — hãy viết dd/mm/yyyy HH:MM",
        id="not-a-date",
    ),
    pytest.param(
        poll_yaml(unit="XX"),
        "dòng 2, unit: không có đơn vị mã “XX”",
        id="unknown-owner",
    ),
    pytest.param(
        poll_yaml(units="[AP-PT, NOPE]"),
        "dòng 3, units[2]: không có đơn vị mã “NOPE”",
        id="unknown-audience-unit",
    ),
    pytest.param(
        poll_yaml(units="[AP-PT, BT]"),
        "units[2]: đơn vị “BT” không thuộc Tỉnh đoàn An Phú (AP)",
        id="outside-the-owner",
    ),
    pytest.param(
        poll_yaml(unit="AP-PT", units="AP-THPT"),
        "units[1]: đơn vị “AP-THPT” không thuộc Đoàn xã Phú Thịnh (AP-PT)",
        id="sibling-unit",
    ),
    pytest.param(
        poll_yaml(opens="", closes="01/01/2020 17:00"),
        "closes: hạn chót 01/01/2020 17:00 đã qua",
        id="deadline-past",
    ),
    pytest.param(
        poll_yaml(opens=local(soon(9)), closes=local(soon(3))),
        "closes: the deadline must come after the opening time",
        id="closes-before-opens",
    ),
    pytest.param(
        poll_yaml(anonimous="true"),
        "dòng 6, anonimous: khóa không có trong mẫu — có phải “anonymous”?",
        id="unknown-key",
    ),
    pytest.param(
        poll_yaml() + "    colour: red\n",
        "dòng 11, questions[2].colour: khóa không có trong mẫu; các khóa được dùng: text,",
        id="unknown-question-key",
    ),
    pytest.param(
        poll_yaml(units="[AP-PT, AP-THPT"),
        "dòng 4, lỗi cú pháp YAML: while parsing a flow sequence",
        id="yaml-syntax",
    ),
    pytest.param(
        poll_yaml(title=""),
        "title: thiếu (bắt buộc phải có)",
        id="missing-title",
    ),
    pytest.param(
        poll_yaml(roles="[member, sếp]"),
        "dòng 6, roles[2]: “sếp” không phải vai trò",
        id="bad-role",
    ),
    pytest.param(
        poll_yaml().replace("kind: scale", "kind: thang diem 10"),
        "dòng 10, questions[2].kind: “thang diem 10” không phải loại câu hỏi",
        id="bad-kind",
    ),
    pytest.param(
        poll_yaml(unit="AP\nunit: AP-PT"),
        "dòng 3, unit: khóa này đã có ở dòng 2",
        id="duplicate-key",
    ),
    pytest.param(
        poll_yaml().replace("options: [Có, Không]", "options: [Có, có]"),
        "questions[1].options: two options are the same",
        id="same-options",
    ),
    pytest.param("- chỉ là một danh sách\n", "tệp phải gồm các dòng “khóa: giá trị”", id="list"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_bad_file_is_refused_with_its_place_and_nothing_stored(
    polls: Polls, content: str, message: str
) -> None:
    result = polls("polls", "create", polls.file("bad.yaml", content))
    assert result.exit_code == 1, result.output
    assert "Không tạo được khảo sát từ tệp bad.yaml" in result.output
    assert "Chưa có gì được lưu." in result.output
    assert message in result.output
    nothing_stored(polls)


def test_every_problem_is_listed_at_once(polls: Polls) -> None:
    content = poll_yaml(closes="mai", roles="[boss]").replace("kind: scale", "kind: bất kỳ")
    result = polls("polls", "create", polls.file("bad.yaml", content))
    assert result.exit_code == 1
    assert "có 3 lỗi" in result.output
    lines = [line.strip() for line in result.output.splitlines()[1:]]
    assert [line.split(":")[0] for line in lines] == [
        "dòng 5, closes",
        "dòng 6, roles[1]",
        "dòng 11, questions[2].kind",
    ]


def test_json_syntax_error_missing_file_and_wrong_suffix(polls: Polls) -> None:
    result = polls("polls", "create", polls.file("p.json", '{"title": "x",\n "unit": }'))
    assert result.exit_code == 1
    assert "dòng 2, lỗi cú pháp JSON: Expecting value" in result.output
    result = polls("polls", "create", str(polls.tmp_path / "none.yaml"))
    assert result.exit_code == 1
    assert "Không tìm thấy tệp" in result.output
    result = polls("polls", "create", polls.file("p.txt", poll_yaml()))
    assert result.exit_code == 1
    assert "tệp khảo sát phải có đuôi .yaml, .yml, .json" in result.output
    nothing_stored(polls)


def test_unit_codes_that_yaml_1_1_would_turn_into_booleans(polls: Polls) -> None:
    units_file = polls.file("on.csv", "code,name,kind,parent_code\nON,Chi đoàn Ôn,branch,AP\n")
    polls.ok("units", "import", units_file)
    polls.ok("polls", "create", polls.file("p.yaml", poll_yaml(units="[ON]")))
    [poll] = polls.polls()
    units = dict(polls.rows("SELECT id, code FROM unit"))
    assert [units[i] for i in poll.audience_units] == ["ON"]


def test_english_operator(polls: Polls) -> None:
    content = poll_yaml(closes="32/13/2026")
    result = polls(
        "polls", "create", polls.file("bad.yaml", content), env={"DOANBOT_DEFAULT_LOCALE": "en"}
    )
    assert result.exit_code == 1
    assert "Could not create a poll from bad.yaml: 1 problem(s). Nothing was saved." in (
        result.output
    )
    assert "line 5, closes: “32/13/2026” is not a date — write dd/mm/yyyy HH:MM" in result.output


# --- list, close, cancel ---------------------------------------------------------------


def test_list_cancel_and_close(polls: Polls) -> None:
    assert "Chưa có khảo sát nào." in polls.ok("polls", "list")
    first = polls.create(poll_yaml(title="Khảo sát thứ nhất"))
    second = polls.create(poll_yaml(title="Khảo sát thứ hai", unit="AP-PT", units=""))
    output = polls.ok("polls", "list")
    lines = output.splitlines()
    assert lines[0].split()[:2] == ["Số", "Trạng"]
    assert re.search(rf"{first} +chờ mở +Khảo sát thứ nhất +AP +\S+ \S+ +—", output)
    assert re.search(rf"{second} +chờ mở +Khảo sát thứ hai +AP-PT ", output)
    only = polls.ok("polls", "list", "--unit", "AP-PT")
    assert "Khảo sát thứ hai" in only and "Khảo sát thứ nhất" not in only
    assert polls("polls", "list", "--unit", "NOPE").exit_code == 1

    # Not opened yet: it can be cancelled, not closed.
    result = polls("polls", "close", str(first))
    assert result.exit_code == 1
    assert f"chưa mở, chưa gửi cho ai: hãy hủy nó bằng doanbot polls cancel {first}" in (
        result.output
    )
    assert f"Đã hủy khảo sát #{first}: Khảo sát thứ nhất." in polls.ok(
        "polls", "cancel", str(first)
    )
    result = polls("polls", "cancel", str(first))
    assert result.exit_code == 1 and "đang ở trạng thái: đã hủy" in result.output

    queued = polls.open(second)
    assert queued == 2  # An on Telegram, Bình on Zalo; Cường has no account
    listed = polls.ok("polls", "list")
    assert re.search(rf"{second} +đang mở +Khảo sát thứ hai +AP-PT +\S+ \S+ +0/3", listed)
    result = polls("polls", "cancel", str(second))
    assert result.exit_code == 1 and "đang ở trạng thái: đang mở" in result.output

    before = polls.count("outbox_message")
    output = polls.ok("polls", "close", str(second))
    assert f"Đã đóng khảo sát #{second}: Khảo sát thứ hai." in output
    poll = next(p for p in polls.polls() if p.id == second)
    assert poll.status == PollStatus.CLOSED and poll.answer_salt is None and poll.closed_at
    # Its owner, AP-PT, has no leader of its own and nobody answered: nobody to tell.
    told = polls.count("outbox_message") - before
    assert f"Đã xếp {told} tin báo kết quả để gửi." in output
    result = polls("polls", "close", str(second))
    assert result.exit_code == 1 and "không đang mở (trạng thái: đã đóng)" in result.output
    result = polls("polls", "close", "999")
    assert result.exit_code == 1 and "Không có khảo sát số 999." in result.output
    assert polls.rows(
        "SELECT action FROM audit_log WHERE entity = 'poll' AND action != 'poll.created' "
        "ORDER BY id"
    ) == [("poll.cancelled",), ("poll.closed_early",)]


def test_closing_early_tells_the_organisers(polls: Polls) -> None:
    poll_id = polls.create(poll_yaml())  # owned by AP, whose standing committee is Phúc
    polls.open(poll_id)
    polls.ok("polls", "close", str(poll_id))
    rows = polls.rows(
        "SELECT dedupe_key FROM outbox_message WHERE dedupe_key LIKE 'poll:%:closed:%'"
    )
    assert len(rows) == 1


# --- results and export ----------------------------------------------------------------


MANY = [
    (f"Đoàn viên {i}", PersonStatus.ACTIVE, [("AP-PT-A1", "member")], [("zalo", True)])
    for i in range(6)
]


def test_results_and_export_of_a_named_poll(polls: Polls) -> None:
    add_people(polls, MANY)
    poll_id = polls.create(poll_yaml(anonymous="false"))
    polls.open(poll_id)
    polls.answer(poll_id, {1: [1], 2: [4]})
    output = polls.ok("polls", "results", str(poll_id))
    assert "Khảo sát nhanh về sinh hoạt chi đoàn" in output
    assert "Có" in output

    out = polls.tmp_path / "ket-qua.xlsx"
    output = polls.ok("polls", "export", str(poll_id), "--out", str(out))
    assert str(out) in output
    book = load_workbook(out)
    assert len(book.sheetnames) == 4  # summary, two questions, answers by name
    values = [c for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    assert "Khảo sát nhanh về sinh hoạt chi đoàn" in values
    assert "Đoàn viên 3" in values  # named: the answers by name are there

    part = polls.ok("polls", "results", str(poll_id), "--unit", "AP-THPT")
    assert "Khảo sát nhanh về sinh hoạt chi đoàn" in part
    result = polls("polls", "results", str(poll_id), "--unit", "BT")
    assert result.exit_code == 1 and "không thuộc đơn vị tổ chức khảo sát" in result.output
    result = polls("polls", "export", str(poll_id), "--out", str(polls.tmp_path / "x.csv"))
    assert result.exit_code == 1 and "phải có đuôi .xlsx" in result.output


def test_export_of_an_anonymous_poll_has_no_names(polls: Polls) -> None:
    add_people(polls, MANY)
    poll_id = polls.create(poll_yaml())
    polls.open(poll_id)
    polls.answer(poll_id, {1: [2], 2: [5]})
    out = polls.tmp_path / "an-danh.xlsx"
    polls.ok("polls", "export", str(poll_id), "--out", str(out))
    book = load_workbook(out)
    assert len(book.sheetnames) == 3  # no answers by name
    values = {c for sheet in book for row in sheet.iter_rows(values_only=True) for c in row}
    assert not any(isinstance(v, str) and "Đoàn viên" in v for v in values)
    assert polls.rows("SELECT action, actor FROM audit_log WHERE action = 'poll.exported'") == [
        ("poll.exported", "cli")
    ]
