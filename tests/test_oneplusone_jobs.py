""" "1+1" jobs: the monthly reminder to members behind their target, and lapsed links.

People are put straight into the database (the flows that record recruits are tested on
their own); what the jobs queue is read back from the outbox. The clock starts on
Thursday 5/11/2026 at 09:00 in Hồ Chí Minh City, the default reminder day.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

import scheduler.oneplusone
from bot.app import App
from bot.config import Settings
from handlers.oneplusone.rules import awaits_secretary, counts
from scheduler.oneplusone import candidates, lapse_referrals, remind_behind_members
from storage.db import Database
from storage.models import (
    OutboxMessage,
    Person,
    PersonStatus,
    Recruit,
    RecruitConsent,
    RecruitStage,
    Role,
    Unit,
)
from storage.uow import unit_of_work
from tests.support import MovableClock, texts

REMINDER_DAY = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)  # 09:00 local
LONG_AGO = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
_users = itertools.count(1)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(REMINDER_DAY)


@dataclass(frozen=True)
class Seeded:
    units: dict[str, int]
    people: dict[str, int]


async def seed(db: Database) -> Seeded:
    """A province with two branches, and the people each test looks at."""
    async with unit_of_work(db) as uow:
        province = await uow.units.add("P", "Tỉnh đoàn", "province", None)
        b1 = await uow.units.add("P-B1", "Chi đoàn 1", "branch", province)
        b2 = await uow.units.add("P-B2", "Chi đoàn 2", "branch", province)
        units = {"P": province, "B1": b1, "B2": b2}
        people: dict[str, int] = {}

        async def person(
            key: str,
            *roles: tuple[str, str],
            status: PersonStatus = PersonStatus.ACTIVE,
            channels: tuple[str, ...] = ("telegram",),
            since: datetime = LONG_AGO,
            reachable: bool = True,
            muted: bool = False,
        ) -> None:
            who = await uow.people.add(f"Đoàn viên {key}", "vi", status)
            who.mute_reminders = muted
            for channel in channels:
                user = f"{channel}-{next(_users)}"
                identity = await uow.people.add_identity(who, channel, user, user, since)
                identity.reachable = reachable
            for unit, role in roles or (("B1", Role.MEMBER),):
                await uow.people.add_membership(who, units[unit], role)
            assert who.id is not None
            people[key] = who.id

        await person("behind", channels=("telegram", "zalo"))
        await person("reached")
        await person("waiting")
        await person("two_branches", ("B1", Role.MEMBER), ("B2", Role.SECRETARY))
        await person("muted", muted=True)
        await person("guest", status=PersonStatus.GUEST)
        await person("invited", status=PersonStatus.INVITED)
        await person("deleted", status=PersonStatus.DELETED)
        await person("new", since=REMINDER_DAY - timedelta(days=3))
        await person("unreachable", reachable=False)
        await person("cadre", ("B1", Role.CADRE))
        await person("b2_only", ("B2", Role.MEMBER))
        await uow.commit()
    ids = {key: unit.id for key, unit in units.items() if unit.id is not None}
    async with unit_of_work(db) as uow:
        uow.session.add(recruit(people["reached"], ids["B1"], consent=RecruitConsent.CONFIRMED))
        uow.session.add(recruit(people["waiting"], ids["B1"]))
        uow.session.add(
            recruit(people["behind"], ids["B1"], stage=RecruitStage.CONTACTED, name="Võ Văn Tú")
        )
        await uow.commit()
    return Seeded(ids, people)


def recruit(
    member_id: int,
    unit_id: int,
    *,
    stage: str = RecruitStage.TOOK_PART,
    consent: str = RecruitConsent.PENDING,
    verified: bool = False,
    name: str | None = "Lê Thị Hoa",
    expires: datetime | None = None,
    year: int = 2026,
) -> Recruit:
    return Recruit(
        member_id=member_id,
        unit_id=unit_id,
        year=year,
        name=name,
        relation="friend",
        activity="Ngày hội hiến máu",
        activity_on=date(year, 11, 1),
        stage=stage,
        consent=consent,
        code_expires_at=expires,
        verified_at=REMINDER_DAY if verified else None,
    )


async def outbox(db: Database, prefix: str = "r11:") -> list[OutboxMessage]:
    async with unit_of_work(db) as uow:
        result = await uow.session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.dedupe_key).startswith(prefix))
            .order_by(col(OutboxMessage.id))
        )
        return list(result.all())


def names(rows: list[OutboxMessage], seeded: Seeded) -> Counter[str]:
    """Rows per person, by the test's names for them."""
    by_id = {pid: key for key, pid in seeded.people.items()}
    return Counter(by_id[row.person_id] for row in rows if row.person_id is not None)


async def set_unit(db: Database, unit_id: int, **values: object) -> None:
    async with unit_of_work(db) as uow:
        unit = await uow.session.get(Unit, unit_id)
        assert unit is not None
        unit.settings = {**unit.settings, **values}
        uow.session.add(unit)
        await uow.commit()


# --- the monthly reminder -----------------------------------------------------------


async def test_behind_members_get_one_reminder_per_account_and_month(
    db: Database, settings: Settings, clock: MovableClock, database_url: str
) -> None:
    seeded = await seed(db)
    assert await remind_behind_members(db, settings, clock) == 5
    rows = await outbox(db)
    # Reached: none. Muted, guest, invited, deleted, new, unreachable, cadre: none either.
    assert names(rows, seeded) == {"behind": 2, "waiting": 1, "two_branches": 1, "b2_only": 1}
    behind = seeded.people["behind"]
    assert {r.dedupe_key for r in rows if r.person_id == behind} == {
        f"r11:nudge:2026-11:{behind}:telegram",
        f"r11:nudge:2026-11:{behind}:zalo",
    }
    assert {r.category for r in rows} == {"nudge"}
    assert all(r.not_before == REMINDER_DAY for r in rows)  # daytime: at once
    payload = next(r.payload for r in rows if r.person_id == behind)
    assert "năm 2026" in payload["text"] and "0/1 thanh niên" in payload["text"]
    assert "chờ xác nhận: 0" in payload["text"] and "còn 2 tháng" in payload["text"]
    assert payload["choices"] == [["!r11new", "Ghi nhận bạn mới"], ["!r11mine", "Xem tiến độ"]]
    waiting = next(r.payload for r in rows if r.person_id == seeded.people["waiting"])
    assert "0/1" in waiting["text"] and "chờ xác nhận: 1" in waiting["text"]

    # A repeated tick, a restart, a second process, the next days: nothing more.
    assert await remind_behind_members(db, settings, clock) == 0
    other = Database(database_url)
    try:
        assert await remind_behind_members(other, settings, clock) == 0
    finally:
        await other.dispose()
    clock.advance(days=1)
    assert await remind_behind_members(db, settings, clock) == 0
    assert len(await outbox(db)) == 5

    clock.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # next month: again, "new" too now
    assert await remind_behind_members(db, settings, clock) == 6
    december = [r for r in await outbox(db) if r.dedupe_key and "2026-12" in r.dedupe_key]
    assert "còn 1 tháng" in december[0].payload["text"]


async def test_two_processes_at_the_same_tick_send_once(
    db: Database, settings: Settings, clock: MovableClock, database_url: str
) -> None:
    seeded = await seed(db)
    other = Database(database_url)
    try:
        first = await remind_behind_members(db, settings, clock)
        second = await remind_behind_members(other, settings, clock)
    finally:
        await other.dispose()
    assert (first, second) == (5, 0)
    assert max(names(await outbox(db), seeded).values()) == 2  # "behind": two accounts


async def test_a_verified_recruit_stops_the_reminders(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    waiting = seeded.people["waiting"]
    await remind_behind_members(db, settings, clock)
    assert names(await outbox(db), seeded)["waiting"] == 1  # took part, not confirmed yet
    async with unit_of_work(db) as uow:
        [row] = await uow.recruits.for_member(waiting, 2026)
        row.verified_at = clock()  # the secretary confirms it
        await uow.recruits.save(row, clock())
        await uow.commit()
    clock.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    await remind_behind_members(db, settings, clock)
    december = [r for r in await outbox(db) if r.dedupe_key and "2026-12" in r.dedupe_key]
    assert "waiting" not in names(december, seeded) and "behind" in names(december, seeded)


async def test_a_new_member_is_reminded_once_two_weeks_have_passed(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    await remind_behind_members(db, settings, clock)
    assert "new" not in names(await outbox(db), seeded)  # joined the bot 3 days ago
    clock.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    await remind_behind_members(db, settings, clock)
    assert names(await outbox(db), seeded)["new"] == 1


async def test_nothing_before_the_day_at_night_or_after_the_grace_days(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    await seed(db)
    for moment in (
        datetime(2026, 11, 4, 3, 0, tzinfo=UTC),  # the 4th, 10:00
        datetime(2026, 11, 5, 0, 30, tzinfo=UTC),  # the 5th, 07:30: too early
        datetime(2026, 11, 4, 20, 0, tzinfo=UTC),  # the 5th, 03:00 at night
        datetime(2026, 11, 8, 3, 0, tzinfo=UTC),  # the 8th: past the two days' grace
    ):
        clock.now = moment
        assert await remind_behind_members(db, settings, clock) == 0
    clock.now = datetime(2026, 11, 7, 3, 0, tzinfo=UTC)  # the bot was down until the 7th
    assert await remind_behind_members(db, settings, clock) == 5


async def test_queued_in_quiet_hours_waits_for_the_branch_quiet_end(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    await set_unit(db, seeded.units["B2"], quiet_start="21:00", quiet_end="10:00")
    await remind_behind_members(db, settings, clock)
    rows = await outbox(db)
    b2_only = [r for r in rows if r.person_id == seeded.people["b2_only"]]
    assert [r.not_before for r in b2_only] == [datetime(2026, 11, 5, 3, 0, tzinfo=UTC)]
    others = [r for r in rows if r.person_id == seeded.people["behind"]]
    assert {r.not_before for r in others} == {REMINDER_DAY}


async def test_started_late_in_the_evening_the_reminder_waits_for_the_morning(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    await seed(db)
    clock.now = datetime(2026, 11, 5, 15, 0, tzinfo=UTC)  # 22:00 local, quiet hours
    assert await remind_behind_members(db, settings, clock) == 5
    next_morning = datetime(2026, 11, 6, 0, 0, tzinfo=UTC)  # 07:00 local
    assert {r.not_before for r in await outbox(db)} == {next_morning}


async def test_a_unit_target_of_two_keeps_a_member_with_one_behind(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    await set_unit(db, seeded.units["P"], oneplusone_target=2)
    await set_unit(db, seeded.units["B2"], oneplusone_target=3)
    await remind_behind_members(db, settings, clock)
    rows = await outbox(db)
    by_person = {r.person_id: r.payload["text"] for r in rows}
    assert "1/2 thanh niên" in by_person[seeded.people["reached"]]
    assert "0/2 thanh niên" in by_person[seeded.people["behind"]]
    # In two branches: one reminder, against the higher target of the two.
    assert names(rows, seeded)["two_branches"] == 1
    assert "0/3 thanh niên" in by_person[seeded.people["two_branches"]]


async def test_a_unit_may_remind_on_its_own_day(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    await set_unit(db, seeded.units["B2"], oneplusone_reminder_day=20)
    await remind_behind_members(db, settings, clock)
    # In two branches asking as much: the first one's day.
    assert set(names(await outbox(db), seeded)) == {"behind", "waiting", "two_branches"}
    clock.now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    await remind_behind_members(db, settings, clock)
    counted = names(await outbox(db), seeded)
    assert counted == {"behind": 2, "waiting": 1, "two_branches": 1, "b2_only": 1}


async def test_a_reminder_day_past_the_26th_is_taken_as_the_26th(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    await set_unit(db, seeded.units["B2"], oneplusone_reminder_day=31, quiet_end="07:30")
    clock.now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
    await remind_behind_members(db, settings, clock)
    assert set(names(await outbox(db), seeded)) == {"b2_only"}


async def test_the_reminder_reaches_both_channels_with_its_buttons(
    app: App, clock: MovableClock
) -> None:
    clock.now = REMINDER_DAY
    seeded = await seed(app.db)
    assert await remind_behind_members(app.db, app.settings, clock) == 5
    await app.sender.drain()
    telegram = app.channels["telegram"].delivered  # type: ignore[attr-defined]
    zalo = app.channels["zalo"].delivered  # type: ignore[attr-defined]
    assert len(telegram) == 4 and len(zalo) == 1
    assert [c.label for c in telegram[0].choices] == ["Ghi nhận bạn mới", "Xem tiến độ"]
    shown = texts(zalo)  # no buttons on Zalo: the words to type instead
    assert "Nhắc nhẹ “1+1” năm 2026" in shown and "gõ: gioi thieu" in shown and "gõ: 1+1" in shown
    assert seeded.people["behind"] in {r.person_id for r in await outbox(app.db)}


async def test_the_tallies_follow_the_counting_rules(db: Database) -> None:
    """The job's SQL tallies agree with ``rules.counts`` and ``rules.awaits_secretary``."""
    seeded = await seed(db)
    member, unit = seeded.people["b2_only"], seeded.units["B2"]
    combos = list(itertools.product(RecruitStage, RecruitConsent, (False, True)))
    async with unit_of_work(db) as uow:
        for stage, consent, verified in combos:
            uow.session.add(recruit(member, unit, stage=stage, consent=consent, verified=verified))
        uow.session.add(recruit(member, unit, consent=RecruitConsent.CONFIRMED, year=2025))
        await uow.commit()
    async with unit_of_work(db) as uow:
        members, _ = await candidates(
            uow, "r11:nudge:2026-11:", 2026, joined_by=REMINDER_DAY, below=len(combos) + 1
        )
    [found] = [m for m in members if m.person_id == member]
    assert found.counted == sum(counts(s, c, v) for s, c, v in combos)
    assert found.waiting == sum(awaits_secretary(s, c, v) for s, c, v in combos)
    assert found.branches == {unit}


# --- lapsed referral links ------------------------------------------------------------


async def test_an_expired_link_wipes_the_name_and_tells_the_member_once(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    behind, b1 = seeded.people["behind"], seeded.units["B1"]
    past, later = clock() - timedelta(hours=1), clock() + timedelta(days=3)
    async with unit_of_work(db) as uow:
        expired = recruit(behind, b1, expires=past)
        confirmed = recruit(behind, b1, consent=RecruitConsent.CONFIRMED, name="Trần Văn Bảo")
        confirmed.code_expires_at = past
        fresh = recruit(behind, b1, name="Phạm Minh Châu", expires=later)
        for row in (expired, confirmed, fresh):
            uow.session.add(row)
        await uow.commit()
    assert await lapse_referrals(db, settings, clock) == 2  # Telegram and Zalo
    rows = await outbox(db, "r11:lapsed:")
    assert {r.dedupe_key for r in rows} == {
        f"r11:lapsed:{expired.id}:telegram",
        f"r11:lapsed:{expired.id}:zalo",
    }
    text = rows[0].payload["text"]
    assert "Lê Thị Hoa" in text and "Ngày hội hiến máu" in text and "01/11/2026" in text
    assert rows[0].category == "reminder" and rows[0].payload["choices"][0][0] == "!r11mine"
    async with unit_of_work(db) as uow:
        kept = {r.id: r for r in await uow.recruits.for_member(behind, 2026)}
    assert kept[expired.id].name is None and kept[expired.id].consent == RecruitConsent.LAPSED
    assert kept[confirmed.id].name == "Trần Văn Bảo"
    assert kept[confirmed.id].consent == RecruitConsent.CONFIRMED
    assert kept[fresh.id].name == "Phạm Minh Châu"
    assert kept[fresh.id].consent == RecruitConsent.PENDING

    clock.advance(hours=1)
    assert await lapse_referrals(db, settings, clock) == 0
    assert len(await outbox(db, "r11:lapsed:")) == 2


async def test_lapsing_goes_on_in_batches_and_waits_for_the_quiet_end(
    db: Database, settings: Settings, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = await seed(db)
    monkeypatch.setattr(scheduler.oneplusone, "LAPSE_BATCH", 2)
    member, b1 = seeded.people["waiting"], seeded.units["B1"]
    clock.now = datetime(2026, 11, 5, 16, 0, tzinfo=UTC)  # 23:00 local
    async with unit_of_work(db) as uow:
        for name in ("An", "Bình", "Cúc", None, "Dũng"):
            uow.session.add(recruit(member, b1, name=name, expires=clock() - timedelta(days=1)))
        muted = recruit(seeded.people["muted"], b1, expires=clock())
        gone = recruit(seeded.people["deleted"], b1, expires=clock())
        uow.session.add_all([muted, gone])
        await uow.commit()
    # Six members' notices (the muted one is told too: it is about their own record); not
    # the deleted person's, whose record lapses all the same.
    assert await lapse_referrals(db, settings, clock) == 6
    rows = await outbox(db, "r11:lapsed:")
    assert names(rows, seeded) == {"waiting": 5, "muted": 1}
    assert sum("một bạn trẻ" in r.payload["text"] for r in rows) == 1  # the one without a name
    assert {r.not_before for r in rows} == {datetime(2026, 11, 6, 0, 0, tzinfo=UTC)}
    async with unit_of_work(db) as uow:
        pending = await uow.session.exec(
            select(Recruit).where(Recruit.consent == RecruitConsent.PENDING)
        )
        # Only the seeded records without a link are left pending.
        assert sorted(r.name or "" for r in pending.all()) == ["Lê Thị Hoa", "Võ Văn Tú"]


async def test_lapsed_member_erased_meanwhile_is_not_told(
    db: Database, settings: Settings, clock: MovableClock
) -> None:
    seeded = await seed(db)
    async with unit_of_work(db) as uow:
        row = recruit(seeded.people["behind"], seeded.units["B1"], expires=clock())
        uow.session.add(row)
        await uow.commit()
    async with unit_of_work(db) as uow:
        person = await uow.session.get(Person, seeded.people["behind"])
        assert person is not None
        person.status = PersonStatus.DELETED
        await uow.commit()
    assert await lapse_referrals(db, settings, clock) == 0
    async with unit_of_work(db) as uow:
        lapsed = await uow.recruits.get(row.id or 0)
    assert lapsed is not None and lapsed.consent == RecruitConsent.LAPSED


# --- after an activity ---------------------------------------------------------------


async def test_the_day_after_an_activity_the_member_is_asked_once(
    db: Database, settings: Settings, database_url: str
) -> None:
    seeded = await seed(db)  # "behind" brought Võ Văn Tú to an activity on 1/11, "contacted"
    day_after = MovableClock(datetime(2026, 11, 2, 2, 0, tzinfo=UTC))  # 09:00 local
    assert await scheduler.oneplusone.ask_after_activities(db, settings, day_after) == 2
    rows = await outbox(db, "r11:after:")
    assert names(rows, seeded) == {"behind": 2}  # took part already, or muted: not asked
    text = rows[0].payload["text"]
    assert "Võ Văn Tú đã đến “Ngày hội hiến máu” ngày 01/11/2026 chưa?" in text
    assert rows[0].payload["choices"][0][0].startswith("!r11came:")
    # Again, in another process, or two days later: never twice.
    assert await scheduler.oneplusone.ask_after_activities(db, settings, day_after) == 0
    day_after.advance(days=2)
    other = Database(database_url)
    try:
        assert await scheduler.oneplusone.ask_after_activities(other, settings, day_after) == 0
    finally:
        await other.dispose()


async def test_nobody_is_asked_before_the_activity_or_long_after(
    db: Database, settings: Settings
) -> None:
    await seed(db)
    for when in (
        datetime(2026, 11, 1, 2, 0, tzinfo=UTC),  # the day itself
        datetime(2026, 11, 5, 2, 0, tzinfo=UTC),  # four days on
        datetime(2026, 11, 1, 20, 0, tzinfo=UTC),  # 03:00 on the 2nd: night
    ):
        assert (
            await scheduler.oneplusone.ask_after_activities(db, settings, MovableClock(when)) == 0
        )


# --- the secretary's monthly summary -------------------------------------------------


async def test_each_branch_leader_gets_the_branch_figures_once_a_month(
    db: Database, settings: Settings, clock: MovableClock, database_url: str
) -> None:
    from scheduler.oneplusone_summary import summarise_for_secretaries

    seeded = await seed(db)
    async with unit_of_work(db) as uow:  # "reached" also leads branch 1
        person = await uow.people.get(seeded.people["reached"])
        unit = await uow.session.get(Unit, seeded.units["B1"])
        assert person is not None and unit is not None
        await uow.people.add_membership(person, unit, Role.SECRETARY)
        await uow.commit()
    assert await summarise_for_secretaries(db, settings, clock) == 2
    rows = await outbox(db, "r11:summary:")
    assert names(rows, seeded) == {"reached": 1, "two_branches": 1}
    by_person = {row.person_id: row.payload["text"] for row in rows}
    b1 = by_person[seeded.people["reached"]]
    # Eight on branch 1's roster (the invited one too), one reached; one waits for them.
    assert "Chi đoàn 1: 1/8 đoàn viên đạt chỉ tiêu; 1/8 thanh niên được tính; 1 bản ghi" in b1
    b2 = by_person[seeded.people["two_branches"]]
    assert "Chi đoàn 2: 0/2 đoàn viên đạt chỉ tiêu; 0/2 thanh niên" in b2
    assert rows[0].payload["choices"] == [["!r11report", "Xem ai đã, ai chưa"]]
    assert "Lê Thị Hoa" not in b1 + b2  # figures, not names
    # Once a month: the next tick, another process, the grace days add nothing.
    assert await summarise_for_secretaries(db, settings, clock) == 0
    clock.advance(days=1)
    other = Database(database_url)
    try:
        assert await summarise_for_secretaries(other, settings, clock) == 0
    finally:
        await other.dispose()
    clock.advance(days=5)  # after the grace days: nothing at all
    assert await summarise_for_secretaries(db, settings, clock) == 0
