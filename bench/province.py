"""A synthetic province for benchmarks: a unit tree, people, accounts, a poll and its answers.

Built with bulk Core inserts (``INSERT … VALUES`` executemany, explicit ids on a fresh
database), never row by row through the ORM, so 100,000 people take seconds:

- a province union, ~40 grassroots unions (communes, schools, companies) under it, and
  ``branches`` branches spread unevenly over them (a few large, many small);
- ``members`` people, each a member of one branch; every branch's first member is also
  its secretary, every grassroots union has a secretary and the province a standing
  committee (people who are members somewhere too, so the audience query must count
  them once);
- 96% active, 3% invited (imported, not joined yet), 1% deleted;
- about 1.6 channel accounts per active person (both Telegram and Zalo, or one, or none),
  4% of them unreachable (the person blocked the bot).

``make_poll`` adds a province-wide anonymous poll of five questions (single, multiple,
scale, single with "other", free text) through the same ``store_poll`` as the CLI, and
``fill_answers`` writes the answers of ``answered_share`` of its recipients straight into
``poll_response``/``poll_choice`` with the respondent keys ``storage.polls.respondent_key``
gives, as if they had answered through the bot.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import insert, text, update
from sqlmodel import col, select

from handlers.polls.service import store_poll
from handlers.polls.spec import PollSpec, QuestionSpec
from storage.db import Database
from storage.models import (
    ChannelIdentity,
    Membership,
    Person,
    PersonStatus,
    PollChoice,
    PollRecipient,
    PollResponse,
    QuestionKind,
    Unit,
)
from storage.polls import respondent_key
from storage.types import utcnow
from storage.uow import unit_of_work

T = TypeVar("T")

GRASSROOTS = 40
CHUNK = 20_000  # rows per executemany call
CODE = "BENCH"

_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
_MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Ngọc", "Thanh", "Quốc", "Thu")
_GIVEN = ("An", "Bình", "Cường", "Dung", "Em", "Giang", "Hà", "Khoa", "Lan", "Minh", "Nam")
_KINDS = ("Đoàn xã", "Đoàn phường", "Đoàn trường THPT", "Đoàn cơ sở Công ty")
_WISHES = (
    "Mong có thêm lớp kỹ năng số cho thanh niên nông thôn",
    "Tổ chức giới thiệu việc làm cho đoàn viên mới ra trường",
    "Sinh hoạt chi đoàn nên ngắn gọn, có nội dung thiết thực hơn",
    "Cần sân chơi thể thao buổi tối cho thanh niên",
    "Hỗ trợ đoàn viên khởi nghiệp, vay vốn",
)


@dataclass(frozen=True)
class Province:
    """What :func:`make_province` built (ids are those of the fresh database)."""

    root_id: int
    code: str
    grassroots: int
    branches: int
    people: int
    active: int
    identities: int
    unreachable: int
    answered_share: float
    seed: int


@dataclass(frozen=True)
class Answers:
    respondents: int
    responses: int
    choices: int


def chunks(rows: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def bulk_insert(db: Database, model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Core ``INSERT`` executemany in batches, in one transaction; rows inserted."""
    table = model.__table__
    count = 0
    async with db.engine.begin() as conn:
        for batch in chunks(rows):
            await conn.execute(insert(table), batch)
            count += len(batch)
    return count


async def raw_insert(
    db: Database, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """The driver's own executemany of one prepared INSERT, for plain values (numbers,
    text, None): several times faster than Core for the ~1M answer rows."""
    if db.is_sqlite:
        marks = ", ".join("?" * len(columns))
    else:
        marks = ", ".join(f"${i + 1}" for i in range(len(columns)))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    count = 0
    async with db.engine.begin() as conn:
        for batch in chunks(rows):
            await conn.exec_driver_sql(sql, batch)
            count += len(batch)
    return count


async def _advance_sequences(db: Database, tables: Sequence[str]) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; catch them up."""
    if db.is_sqlite:
        return
    async with db.engine.begin() as conn:
        for table in tables:
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )


def _branch_sizes(rng: random.Random, members: int, branches: int) -> list[int]:
    """Uneven branch sizes (a long tail of small branches) adding up to ``members``."""
    weights = [rng.paretovariate(2.5) for _ in range(branches)]
    scale = members / sum(weights)
    sizes = [max(1, int(w * scale)) for w in weights]
    sizes[0] += members - sum(sizes)
    while sizes[0] < 1:  # rounding took too much from the first: spread the debt
        biggest = max(range(1, branches), key=sizes.__getitem__)
        sizes[biggest] -= 1
        sizes[0] += 1
    return sizes


async def make_province(
    db: Database, *, members: int, branches: int, answered_share: float, seed: int
) -> Province:
    """Fill an empty, migrated database with a province of ``members`` people."""
    rng = random.Random(seed)
    now = utcnow()
    branches = max(1, min(branches, members))
    grassroots = max(1, min(GRASSROOTS, branches))

    units: list[dict[str, Any]] = [_unit(1, CODE, "Tỉnh đoàn Bench", "province", None, "/1/", 0)]
    for g in range(grassroots):
        uid = 2 + g
        name = f"{_KINDS[g % len(_KINDS)]} số {g + 1}"
        units.append(_unit(uid, f"{CODE}-G{g + 1:02d}", name, "grassroots", 1, f"/1/{uid}/", 1))
    first_branch = 2 + grassroots
    branch_units: list[int] = []
    for b in range(branches):
        uid = first_branch + b
        parent = 2 + b % grassroots
        units.append(
            _unit(
                uid,
                f"{CODE}-G{parent - 1:02d}-B{b + 1:04d}",
                f"Chi đoàn {b + 1}",
                "branch",
                parent,
                f"/1/{parent}/{uid}/",
                2,
            )
        )
        branch_units.append(uid)
    await bulk_insert(db, Unit, units)

    people: list[dict[str, Any]] = []
    memberships: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    person_id = 0
    grassroots_secretary: set[int] = set()
    unreachable = 0
    for b, size in enumerate(_branch_sizes(rng, members, branches)):
        branch = branch_units[b]
        parent = 2 + b % grassroots
        for i in range(size):
            person_id += 1
            roll = rng.random()
            status = (
                PersonStatus.ACTIVE
                if roll < 0.96
                else PersonStatus.INVITED
                if roll < 0.99
                else PersonStatus.DELETED
            )
            people.append(_person(person_id, rng, status, now))
            memberships.append(_membership(len(memberships) + 1, person_id, branch, "member", now))
            if i == 0:
                memberships.append(
                    _membership(len(memberships) + 1, person_id, branch, "secretary", now)
                )
                if parent not in grassroots_secretary:
                    grassroots_secretary.add(parent)
                    memberships.append(
                        _membership(len(memberships) + 1, person_id, parent, "secretary", now)
                    )
            if person_id <= 5:  # the standing committee, members of a branch as well
                memberships.append(_membership(len(memberships) + 1, person_id, 1, "standing", now))
            if status != PersonStatus.ACTIVE:
                continue
            pick = rng.random()
            channels = (
                ("telegram", "zalo")
                if pick < 0.66
                else ("zalo",)
                if pick < 0.88
                else ("telegram",)
                if pick < 0.96
                else ()
            )
            for channel in channels:
                reachable = rng.random() >= 0.04
                unreachable += not reachable
                identities.append(
                    _identity(len(identities) + 1, person_id, channel, reachable, now)
                )
    await bulk_insert(db, Person, people)
    await bulk_insert(db, Membership, memberships)
    await bulk_insert(db, ChannelIdentity, identities)
    await _advance_sequences(db, ["unit", "person", "membership", "channel_identity"])
    return Province(
        root_id=1,
        code=CODE,
        grassroots=grassroots,
        branches=branches,
        people=len(people),
        active=sum(p["status"] == PersonStatus.ACTIVE for p in people),
        identities=len(identities),
        unreachable=unreachable,
        answered_share=answered_share,
        seed=seed,
    )


def _unit(
    uid: int, code: str, name: str, kind: str, parent: int | None, path: str, depth: int
) -> dict[str, Any]:
    return {
        "id": uid,
        "code": code,
        "name": name,
        "kind": kind,
        "parent_id": parent,
        "path": path,
        "depth": depth,
        "settings": {},
        "created_at": utcnow(),
    }


def _person(pid: int, rng: random.Random, status: str, now: datetime) -> dict[str, Any]:
    deleted = status == PersonStatus.DELETED
    name = f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
    return {
        "id": pid,
        "full_name": None if deleted else name,
        "locale": "en" if rng.random() < 0.02 else "vi",
        "status": str(status),
        "mute_reminders": False,
        "created_at": now,
        "deleted_at": now if deleted else None,
    }


def _membership(mid: int, pid: int, unit: int, role: str, now: datetime) -> dict[str, Any]:
    return {"id": mid, "person_id": pid, "unit_id": unit, "role": role, "created_at": now}


def _identity(iid: int, pid: int, channel: str, reachable: bool, now: datetime) -> dict[str, Any]:
    user = f"{7_000_000 + pid}" if channel == "telegram" else f"zu{pid:07d}"
    return {
        "id": iid,
        "person_id": pid,
        "channel": channel,
        "platform_user_id": user,
        "chat_id": user,
        "reachable": reachable,
        "blocked_at": None if reachable else now,
        "last_seen_at": now,
        "created_at": now,
    }


# --- the poll and its answers ----------------------------------------------------------

QUESTIONS = [
    QuestionSpec(
        text="Bạn tham gia sinh hoạt chi đoàn trong quý IV thế nào?",
        kind=QuestionKind.SINGLE,
        options=["Đủ 3 buổi", "2 buổi", "1 buổi", "Không buổi nào"],
    ),
    QuestionSpec(
        text="Điều bạn quan tâm, lo lắng nhiều nhất",
        kind=QuestionKind.MULTI,
        options=[
            "Việc làm, thu nhập",
            "Học tập, tay nghề",
            "Sức khỏe, tâm lý",
            "Nhà ở, chi phí sinh hoạt",
            "Tin giả, lừa đảo trên mạng",
            "Tệ nạn xã hội",
        ],
        other=True,
    ),
    QuestionSpec(text="Mức hài lòng với hoạt động Đoàn (1–5)", kind=QuestionKind.SCALE),
    QuestionSpec(
        text="Bạn theo dõi tin của Đoàn chủ yếu qua",
        kind=QuestionKind.SINGLE,
        options=["Nhóm Zalo chi đoàn", "Fanpage Facebook", "Sinh hoạt trực tiếp"],
        other=True,
    ),
    QuestionSpec(text="Kiến nghị, đề xuất của bạn", kind=QuestionKind.TEXT, required=False),
]


async def make_poll(db: Database, province: Province, *, now: datetime) -> int:
    """A scheduled, anonymous, province-wide poll of :data:`QUESTIONS`; its id."""
    spec = PollSpec(
        title="Khảo sát tâm tư, nguyện vọng đoàn viên quý IV/2026",
        unit=province.code,
        opens_at=now,
        closes_at=now + timedelta(days=14),
        anonymous=True,
        questions=QUESTIONS,
    )
    async with unit_of_work(db) as uow:
        poll = await store_poll(uow, spec, now=now, created_by=None)
        await uow.commit()
    assert poll.id is not None
    return poll.id


async def fill_answers(db: Database, province: Province, poll_id: int, *, secret: bytes) -> Answers:
    """Answers of ``province.answered_share`` of the poll's recipients, in bulk.

    Recipients are those the fan-out recorded (added here if the poll has none yet);
    the poll must still be open (anonymous keys need its salt).
    """
    rng = random.Random(province.seed + 1)
    async with unit_of_work(db) as uow:
        poll = await uow.polls.get(poll_id)
        assert poll is not None
        found = await uow.session.exec(
            select(PollRecipient.person_id, PollRecipient.unit_id).where(
                PollRecipient.poll_id == poll_id
            )
        )
        recipients = list(found.all())
        if not recipients:
            await uow.polls.add_recipients(poll)
            await uow.commit()
            found = await uow.session.exec(
                select(PollRecipient.person_id, PollRecipient.unit_id).where(
                    PollRecipient.poll_id == poll_id
                )
            )
            recipients = list(found.all())
        questions = await uow.polls.questions(poll_id)
    answering = rng.sample(recipients, round(len(recipients) * province.answered_share))
    # As PollRepository.save_answer writes them for an anonymous poll: no person, no time.
    responses: list[tuple[int, str, int, int, str | None]] = []
    choices: list[tuple[int, str, int, int]] = []
    for person_id, unit_id in answering:
        who = respondent_key(poll, person_id, secret)
        for question in questions:
            assert question.id is not None
            picks, words = _answer(rng, question.kind, len(question.options), question.allow_other)
            if not picks and words is None:
                continue  # an optional question left out
            responses.append((question.id, who, poll_id, unit_id, words))
            choices += [(question.id, who, option, unit_id) for option in picks]
    response_columns = ("question_id", "respondent", "poll_id", "unit_id", "text")
    await raw_insert(db, PollResponse.__tablename__, response_columns, responses)
    choice_columns = ("question_id", "respondent", "option", "unit_id")
    await raw_insert(db, PollChoice.__tablename__, choice_columns, choices)
    async with db.engine.begin() as conn:
        for batch in chunks([p for p, _ in answering], 5000):
            await conn.execute(
                update(PollRecipient)
                .where(
                    col(PollRecipient.poll_id) == poll_id, col(PollRecipient.person_id).in_(batch)
                )
                .values(answered=True)
            )
    return Answers(len(answering), len(responses), len(choices))


def _answer(
    rng: random.Random, kind: str, options: int, other: bool
) -> tuple[list[int], str | None]:
    """One made-up answer: option numbers, and words for "other" or free text."""
    last = options + (1 if other else 0)
    if kind == QuestionKind.SCALE:
        return [rng.choices(range(1, 6), weights=(3, 7, 25, 40, 25))[0]], None
    if kind == QuestionKind.TEXT:
        return ([], rng.choice(_WISHES)) if rng.random() < 0.3 else ([], None)
    if kind == QuestionKind.MULTI:
        picks = sorted(rng.sample(range(1, last + 1), rng.choice((1, 1, 2, 2, 3))))
    else:
        picks = [min(last, 1 + int(rng.expovariate(0.8)))]
    words = "Chăm sóc ông bà ở quê" if other and last in picks else None
    return picks, words
