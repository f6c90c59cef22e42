""" "1+1" records: the young people members brought in, and each branch's yearly plan.

What counts is decided by :mod:`handlers.oneplusone.rules`; :func:`counted` is the
same rule as a SQL condition, for counting in the database. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.oneplusone.rules import ANSWERED, COUNTING_STAGES, NOT_COUNTED, UNANSWERED
from storage.invites import unused_code
from storage.models import (
    ChannelIdentity,
    Membership,
    Person,
    PersonStatus,
    Recruit,
    RecruitConsent,
    RecruitPlan,
    RecruitStage,
    Role,
    Unit,
)

#: Roles whose holders are the branch's members for "1+1" (each brings one in).
MEMBER_ROLES = frozenset({Role.MEMBER, Role.SECRETARY, Role.DEPUTY})
#: Who confirms a recruit the young person never answered for: the unit's leaders.
CONFIRMER_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY})


def is_branch(unit_id: Any) -> Any:
    """SQL: the unit ``unit_id`` is a branch — no unit lies under it."""
    below = aliased(Unit)
    return ~exists().where(col(below.parent_id) == unit_id)


def branch_member() -> Any:
    """SQL on ``membership``: a member's role in a branch (chi đoàn), the one unit kind
    with no units under it. A grassroots union's own secretary is not a branch of one:
    the union reports "x% of branches", and it would count the grassroots union too."""
    return and_(
        col(Membership.role).in_([r.value for r in MEMBER_ROLES]),
        is_branch(col(Membership.unit_id)),
    )


def counted() -> Any:
    """SQL: the recruit counts towards its member's target (see ``rules.counts``)."""
    return and_(
        col(Recruit.stage).in_([s.value for s in COUNTING_STAGES]),
        col(Recruit.consent).not_in([c.value for c in NOT_COUNTED]),
        or_(
            col(Recruit.consent).in_([c.value for c in ANSWERED]),
            col(Recruit.verified_at).is_not(None),
        ),
    )


def awaiting_secretary() -> Any:
    """SQL: the member says the young person took part, and only the secretary can make it
    count (see ``rules.awaits_secretary``)."""
    return and_(
        col(Recruit.stage).in_([s.value for s in COUNTING_STAGES]),
        col(Recruit.verified_at).is_(None),
        col(Recruit.consent).in_([c.value for c in UNANSWERED]),
    )


class RecruitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- recruits ----------------------------------------------------------------------

    async def add(self, recruit: Recruit) -> Recruit:
        self.session.add(recruit)
        await self.session.flush()
        return recruit

    async def get(self, recruit_id: int) -> Recruit | None:
        return await self.session.get(Recruit, recruit_id)

    async def by_code(self, code: str) -> Recruit | None:
        result = await self.session.exec(select(Recruit).where(Recruit.code == code))
        return result.first()

    async def new_link(self, recruit: Recruit, now: datetime, valid_for: timedelta) -> str:
        """Give ``recruit`` a fresh referral code (an older one stops working)."""
        recruit.code = await unused_code(self.session)
        recruit.code_expires_at = now + valid_for
        recruit.updated_at = now
        self.session.add(recruit)
        await self.session.flush()
        return recruit.code

    async def save(self, recruit: Recruit, now: datetime) -> None:
        recruit.updated_at = now
        self.session.add(recruit)
        await self.session.flush()

    async def for_member(self, member_id: int, year: int) -> Sequence[Recruit]:
        result = await self.session.exec(
            select(Recruit)
            .where(Recruit.member_id == member_id, Recruit.year == year)
            .order_by(col(Recruit.activity_on), col(Recruit.id))
        )
        return result.all()

    async def for_unit(self, unit_id: int, year: int) -> Sequence[Recruit]:
        result = await self.session.exec(
            select(Recruit)
            .where(Recruit.unit_id == unit_id, Recruit.year == year)
            .order_by(col(Recruit.activity_on), col(Recruit.id))
        )
        return result.all()

    async def of_young_person(self, person_id: int) -> Sequence[Recruit]:
        """Every record a young person confirmed (any year)."""
        result = await self.session.exec(
            select(Recruit)
            .where(Recruit.recruit_person_id == person_id)
            .order_by(col(Recruit.year), col(Recruit.id))
        )
        return result.all()

    async def confirmed_in(self, person_id: int, year: int) -> Recruit | None:
        """The record that already counts this young person in ``year``, if any."""
        result = await self.session.exec(
            select(Recruit).where(Recruit.recruit_person_id == person_id, Recruit.year == year)
        )
        return result.first()

    async def contacted_between(self, first: date, last: date) -> Sequence[Recruit]:
        """Records still at "contacted" whose activity fell between ``first`` and ``last``:
        the member may not have said yet whether the young person came."""
        result = await self.session.exec(
            select(Recruit)
            .where(
                Recruit.stage == RecruitStage.CONTACTED,
                col(Recruit.activity_on) >= first,
                col(Recruit.activity_on) <= last,
                col(Recruit.member_id).is_not(None),
                col(Recruit.consent).not_in([c.value for c in NOT_COUNTED]),
            )
            .order_by(col(Recruit.id))
        )
        return result.all()

    async def counted_by_member(self, member_ids: Sequence[int], year: int) -> dict[int, int]:
        """How many recruits count for each member in ``year`` (members with none left out)."""
        if not member_ids:
            return {}
        result = await self.session.exec(
            select(Recruit.member_id, func.count())
            .where(col(Recruit.member_id).in_(list(member_ids)), Recruit.year == year, counted())
            .group_by(col(Recruit.member_id))
        )
        return {pid: n for pid, n in result.all() if pid is not None}

    async def recorded_by(self, person_id: int) -> int:
        """How many recruits this member recorded, all years (for "my data")."""
        result = await self.session.exec(
            select(func.count()).select_from(Recruit).where(Recruit.member_id == person_id)
        )
        return int(result.one())

    # --- who is a member ----------------------------------------------------------------

    async def branch_members(self, unit_id: int) -> Sequence[Person]:
        """The branch's members for "1+1": on the roster (joined or not yet), once each."""
        result = await self.session.exec(
            select(Person)
            .join(Membership, col(Membership.person_id) == Person.id)
            .where(
                Membership.unit_id == unit_id,
                branch_member(),
                col(Person.status).in_([PersonStatus.ACTIVE, PersonStatus.INVITED]),
            )
            .distinct()
            .order_by(col(Person.full_name), col(Person.id))
        )
        return result.all()

    async def branches_of(self, person_id: int) -> Sequence[Unit]:
        """The branches where this person is a member (or secretary, deputy)."""
        result = await self.session.exec(
            select(Unit)
            .join(Membership, col(Membership.unit_id) == Unit.id)
            .where(Membership.person_id == person_id, branch_member())
            .order_by(col(Unit.path))
        )
        # Once each, in Python: PostgreSQL cannot DISTINCT the unit's JSON settings.
        return list({unit.id: unit for unit in result.all()}.values())

    async def confirmers(self, unit_id: int) -> Sequence[Person]:
        """The unit's secretaries and deputies who use the bot."""
        result = await self.session.exec(
            select(Person)
            .join(Membership, col(Membership.person_id) == Person.id)
            .where(
                Membership.unit_id == unit_id,
                col(Membership.role).in_([r.value for r in CONFIRMER_ROLES]),
                Person.status == PersonStatus.ACTIVE,
            )
            .distinct()
            .order_by(col(Person.id))
        )
        return result.all()

    async def branch_leaders(self) -> Sequence[tuple[Person, Unit]]:
        """Every branch's secretaries and deputies who can be reached, with the branch."""
        reachable = exists().where(
            col(ChannelIdentity.person_id) == col(Person.id),
            col(ChannelIdentity.reachable).is_(True),
        )
        result = await self.session.exec(
            select(Person, Unit)
            .join(Membership, col(Membership.person_id) == Person.id)
            .join(Unit, col(Unit.id) == Membership.unit_id)
            .where(
                col(Membership.role).in_([r.value for r in CONFIRMER_ROLES]),
                is_branch(col(Unit.id)),
                Person.status == PersonStatus.ACTIVE,
                reachable,
            )
            .order_by(col(Unit.path), col(Person.id))
        )
        # Once per person and branch (secretary and deputy both count once); not DISTINCT
        # in SQL: PostgreSQL cannot compare the unit's JSON settings.
        found: dict[tuple[int | None, int | None], tuple[Person, Unit]] = {}
        for person, unit in result.all():
            found.setdefault((person.id, unit.id), (person, unit))
        return list(found.values())

    async def confirm_scope(self, person_id: int) -> set[int]:
        """Units whose recruits this person may confirm: those they lead as secretary or
        deputy, and the branches right under them (a grassroots union confirms for a
        branch whose only leader recorded the young person themself)."""
        led = select(Membership.unit_id).where(
            Membership.person_id == person_id,
            col(Membership.role).in_([r.value for r in CONFIRMER_ROLES]),
        )
        result = await self.session.exec(
            select(Unit.id).where(or_(col(Unit.id).in_(led), col(Unit.parent_id).in_(led)))
        )
        return {unit_id for unit_id in result.all() if unit_id is not None}

    # --- privacy ------------------------------------------------------------------------

    @staticmethod
    def wipe(recruit: Recruit, consent: RecruitConsent, now: datetime) -> None:
        """Keep only a count: nothing about the young person, no working link (the code
        stays, so that opening it again can say it was used)."""
        recruit.name = recruit.relation = None
        recruit.recruit_person_id = None
        recruit.code_expires_at = None
        recruit.consent = consent
        recruit.answered_at = recruit.answered_at or now
        recruit.updated_at = now

    async def lapse_expired(
        self, now: datetime, limit: int = 500
    ) -> list[tuple[Recruit, str | None]]:
        """Pending records whose link has run out: the member's words are wiped. Returns
        each record with the name it had, so the member can be told which one it was."""
        result = await self.session.exec(
            select(Recruit)
            .where(
                Recruit.consent == RecruitConsent.PENDING,
                col(Recruit.code_expires_at) <= now,
            )
            .order_by(col(Recruit.id))
            .limit(limit)
        )
        lapsed = []
        for recruit in result.all():
            lapsed.append((recruit, recruit.name))
            self.wipe(recruit, RecruitConsent.LAPSED, now)
            recruit.answered_at = None
            self.session.add(recruit)
        await self.session.flush()
        return lapsed

    async def forget_young_person(self, person_id: int, now: datetime) -> int:
        """A young person removes their data: each record they confirmed becomes a count."""
        rows = await self.of_young_person(person_id)
        for recruit in rows:
            self.wipe(recruit, RecruitConsent.WITHDRAWN, now)
            self.session.add(recruit)
        await self.session.flush()
        return len(rows)

    async def forget_member(self, person_id: int, now: datetime) -> None:
        """A member removes their data: their recruits stay as the branch's counts, no
        longer theirs; what they typed about young people who never agreed goes too."""
        await self.session.execute(
            update(Recruit)
            .where(
                col(Recruit.member_id) == person_id,
                col(Recruit.consent) == RecruitConsent.PENDING,
            )
            .values(
                name=None,
                relation=None,
                code_expires_at=None,
                consent=RecruitConsent.LAPSED,
                updated_at=now,
            )
        )
        await self.session.execute(
            update(Recruit)
            .where(col(Recruit.member_id) == person_id)
            .values(member_id=None, updated_at=now)
        )
        await self.session.execute(
            update(Recruit)
            .where(col(Recruit.verified_by_id) == person_id)
            .values(verified_by_id=None)
        )
        await self.session.execute(
            update(RecruitPlan)
            .where(col(RecruitPlan.planned_by_id) == person_id)
            .values(planned_by_id=None)
        )
        await self.session.execute(
            update(RecruitPlan)
            .where(col(RecruitPlan.evaluated_by_id) == person_id)
            .values(evaluated_by_id=None)
        )

    # --- the branch plan ----------------------------------------------------------------

    async def plan(self, unit_id: int, year: int) -> RecruitPlan | None:
        result = await self.session.exec(
            select(RecruitPlan).where(RecruitPlan.unit_id == unit_id, RecruitPlan.year == year)
        )
        return result.first()

    async def plan_for_update(self, unit_id: int, year: int) -> RecruitPlan:
        """The branch's plan for ``year``, created empty when there is none yet."""
        plan = await self.plan(unit_id, year)
        if plan is None:
            plan = RecruitPlan(unit_id=unit_id, year=year)
        return plan

    async def save_plan(self, plan: RecruitPlan) -> None:
        self.session.add(plan)
        await self.session.flush()
