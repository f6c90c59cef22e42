""" "1+1" rules: what counts, the same rule in SQL, dates members type, the evaluation year."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from handlers.oneplusone.common import date_problem, read_activity_date
from handlers.oneplusone.rules import (
    awaits_secretary,
    behind,
    branch_target,
    counts,
    evaluation_year,
    member_progress,
    reminder_due,
)
from storage.db import Database
from storage.models import Person, Recruit, RecruitConsent, RecruitStage
from storage.types import utcnow
from storage.uow import unit_of_work

T = date(2026, 12, 2)


def test_a_members_word_alone_does_not_count() -> None:
    assert not counts(RecruitStage.TOOK_PART, RecruitConsent.PENDING, False)
    assert counts(RecruitStage.TOOK_PART, RecruitConsent.PENDING, True)  # secretary confirmed
    assert counts(RecruitStage.TOOK_PART, RecruitConsent.CONFIRMED, False)
    assert counts(RecruitStage.JOINED, RecruitConsent.DECLINED, False)  # anonymous, but real
    assert counts(RecruitStage.TOOK_PART, RecruitConsent.WITHDRAWN, False)
    assert not counts(RecruitStage.TOOK_PART, RecruitConsent.LAPSED, False)
    assert not counts(RecruitStage.CONTACTED, RecruitConsent.CONFIRMED, True)  # not yet
    assert not counts(RecruitStage.JOINED, RecruitConsent.DUPLICATE, True)  # counted elsewhere
    assert awaits_secretary(RecruitStage.TOOK_PART, RecruitConsent.PENDING, False)
    assert not awaits_secretary(RecruitStage.TOOK_PART, RecruitConsent.LAPSED, False)  # no name
    assert not awaits_secretary(RecruitStage.TOOK_PART, RecruitConsent.CONFIRMED, False)


def test_targets_and_who_is_behind() -> None:
    assert branch_target(12, 1) == 12 and branch_target(12, 2) == 24 and branch_target(0, 1) == 0
    people = [(1, member_progress(0, 1)), (2, member_progress(1, 1)), (3, member_progress(1, 2))]
    assert behind(people) == [1, 3]
    assert member_progress(3, 2).missing == 0 and member_progress(0, 2).missing == 2


def test_reminder_days_and_evaluation_year() -> None:
    assert [d for d in range(1, 11) if reminder_due(date(2026, 5, d), 5)] == [5, 6, 7]
    assert evaluation_year(date(2026, 10, 31)) is None
    assert evaluation_year(date(2026, 11, 1)) == 2026
    assert evaluation_year(date(2027, 3, 31)) == 2026
    assert evaluation_year(date(2027, 4, 1)) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15/11", date(2026, 11, 15)),  # just passed: this year
        ("5/1", date(2027, 1, 5)),  # coming soon: next year
        ("28/2", date(2027, 2, 28)),
        ("20/12/2026", date(2026, 12, 20)),
        ("hôm nay", T),
        ("hôm qua", None),
        ("ba mươi", None),
    ],
)
def test_activity_dates_are_the_nearest_such_day(typed: str, expected: date | None) -> None:
    assert read_activity_date(typed, T) == expected


def test_activity_dates_that_cannot_be_recorded() -> None:
    assert date_problem(date(2026, 1, 1), T) is None
    assert date_problem(date(2025, 12, 31), T) == "r11.date_too_old"
    assert date_problem(date(2025, 6, 1), date(2026, 3, 31)) is None  # last year, till March
    assert date_problem(T + timedelta(days=91), T) == "r11.date_too_far"


async def test_the_sql_rule_is_the_python_rule(database_url: str) -> None:
    """Every combination of stage, consent and confirmation counts the same in both."""
    from storage.recruits import counted

    db = Database(database_url)
    now = utcnow()
    combos = list(itertools.product(RecruitStage, RecruitConsent, (False, True)))
    try:
        async with unit_of_work(db) as uow:
            unit = await uow.units.add("X", "Chi đoàn X", "branch", None)
            member = Person(full_name="Nguyễn Văn An")
            uow.session.add(member)
            await uow.session.flush()
            for i, (stage, consent, checked) in enumerate(combos):
                uow.session.add(
                    Recruit(
                        member_id=member.id,
                        unit_id=unit.id,
                        year=2026,
                        activity_on=date(2026, 5, 1),
                        stage=stage,
                        consent=consent,
                        activity=str(i),
                        verified_at=now if checked else None,
                        created_at=now,
                        updated_at=now,
                    )
                )
            await uow.session.flush()
            result = await uow.session.exec(
                Recruit.__table__.select().where(counted())  # type: ignore[attr-defined]
            )
            in_sql = {row.activity for row in result.all()}
            assert member.id is not None
            by_member = await uow.recruits.counted_by_member([member.id], 2026)
    finally:
        await db.dispose()
    in_python = {str(i) for i, combo in enumerate(combos) if counts(*combo)}
    # 2 stages x (3 answered consents x 2 + pending/lapsed confirmed by the secretary)
    assert in_sql == in_python and len(in_python) == 16
    assert by_member == {member.id: 16}
