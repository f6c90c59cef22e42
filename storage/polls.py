"""Polls: questions, who was asked, and answers (one per person and question).

An anonymous poll never stores who gave an answer: the respondent is a keyed hash
of the person, good only for keeping one answer per person while the poll is open.
The key is made from the server's secret and the poll's salt; the salt is wiped
when the poll closes, and from then on nobody can tie an answer to a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, exists, false, func, literal, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    ChannelIdentity,
    Membership,
    Person,
    PersonStatus,
    Poll,
    PollChoice,
    PollQuestion,
    PollRecipient,
    PollResponse,
    PollStatus,
    Unit,
)
from storage.units import subtree_bounds


@dataclass(frozen=True, slots=True)
class GivenAnswer:
    """What one person answered to one question."""

    options: tuple[int, ...]
    text: str | None


@dataclass(frozen=True, slots=True)
class AudienceSize:
    people: int  # distinct active people who would be asked
    reachable: int  # of them, with an account the bot can write to


@dataclass(frozen=True, slots=True)
class Addressee:
    """One reachable account of someone a poll goes to."""

    person_id: int
    locale: str
    channel: str
    chat_id: str


def new_salt() -> str:
    return secrets.token_hex(16)


def respondent_key(poll: Poll, person_id: int, secret: bytes) -> str:
    """``p<id>`` in a named poll; a keyed hash in an anonymous one (while it is open)."""
    if not poll.anonymous:
        return f"p{person_id}"
    if poll.answer_salt is None:
        raise PollClosed(poll.id)
    key = hmac.new(secret, poll.answer_salt.encode(), hashlib.sha256).digest()
    return "a" + hmac.new(key, str(person_id).encode(), hashlib.sha256).hexdigest()[:40]


def _audience(units: Sequence[Unit], roles: Sequence[str]) -> list[Any] | None:
    """Conditions on (Membership, Unit, Person) for "active, in these subtrees, these roles"."""
    ranges = [
        and_(col(Unit.path) >= low, col(Unit.path) < high)
        for low, high in (subtree_bounds(u.path) for u in units)
    ]
    if not ranges:
        return None
    conditions: list[Any] = [or_(*ranges), Person.status == PersonStatus.ACTIVE]
    if roles:
        conditions.append(col(Membership.role).in_(list(roles)))
    return conditions


class PollClosed(Exception):
    """The poll no longer takes answers."""


class PollRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- polls and questions -----------------------------------------------------------

    async def get(self, poll_id: int) -> Poll | None:
        return await self.session.get(Poll, poll_id)

    async def add(self, poll: Poll, questions: Sequence[PollQuestion]) -> Poll:
        if poll.anonymous and poll.answer_salt is None:
            poll.answer_salt = new_salt()
        self.session.add(poll)
        await self.session.flush()
        assert poll.id is not None
        for position, question in enumerate(questions, start=1):
            question.poll_id, question.position = poll.id, position
            self.session.add(question)
        await self.session.flush()
        return poll

    async def questions(self, poll_id: int) -> list[PollQuestion]:
        result = await self.session.exec(
            select(PollQuestion)
            .where(PollQuestion.poll_id == poll_id)
            .order_by(col(PollQuestion.position))
        )
        return list(result.all())

    async def due_to_open(self, now: datetime) -> Sequence[Poll]:
        result = await self.session.exec(
            select(Poll)
            .where(Poll.status == PollStatus.SCHEDULED, col(Poll.opens_at) <= now)
            .order_by(col(Poll.id))
        )
        return result.all()

    async def open_polls(self) -> Sequence[Poll]:
        result = await self.session.exec(
            select(Poll).where(Poll.status == PollStatus.OPEN).order_by(col(Poll.id))
        )
        return result.all()

    async def in_units(self, unit_paths: Sequence[str], limit: int = 10) -> Sequence[Poll]:
        """The newest polls owned by a unit in any of these subtrees."""
        if not unit_paths:
            return []
        ranges = [
            and_(col(Unit.path) >= low, col(Unit.path) < high)
            for low, high in map(subtree_bounds, unit_paths)
        ]
        result = await self.session.exec(
            select(Poll)
            .join(Unit, col(Unit.id) == Poll.unit_id)
            .where(or_(*ranges), Poll.status != PollStatus.CANCELLED)
            .order_by(col(Poll.opens_at).desc(), col(Poll.id).desc())
            .limit(limit)
        )
        return result.all()

    async def above_units(self, unit_paths: Sequence[str], limit: int = 10) -> Sequence[Poll]:
        """The newest polls owned by an upper level of any of these units."""
        ancestors = {int(part) for path in unit_paths for part in path.strip("/").split("/")[:-1]}
        if not ancestors:
            return []
        result = await self.session.exec(
            select(Poll)
            .where(col(Poll.unit_id).in_(ancestors), Poll.status != PollStatus.CANCELLED)
            .order_by(col(Poll.opens_at).desc(), col(Poll.id).desc())
            .limit(limit)
        )
        return result.all()

    # --- recipients --------------------------------------------------------------------

    async def add_recipients(self, poll: Poll) -> int:
        """Everyone active with one of the poll's roles in its audience units, once each.

        One INSERT … SELECT, so a province-wide poll is fanned out by the database.
        A person with no reachable account is recorded as unreachable at once.
        """
        assert poll.id is not None
        units = await self.session.exec(select(Unit).where(col(Unit.id).in_(poll.audience_units)))
        conditions = _audience(list(units.all()), poll.audience_roles)
        if conditions is None:
            return 0
        reachable = exists().where(
            col(ChannelIdentity.person_id) == col(Membership.person_id),
            col(ChannelIdentity.reachable).is_(True),
        )
        chosen = (
            sa_select(
                literal(poll.id),
                col(Membership.person_id),
                func.min(col(Membership.unit_id)),
                false(),
                ~reachable,
                literal(0),
            )
            .join(Unit, col(Unit.id) == Membership.unit_id)
            .join(Person, col(Person.id) == Membership.person_id)
            .where(*conditions)
            .group_by(col(Membership.person_id))
        )
        insert = PollRecipient.__table__.insert().from_select(  # type: ignore[attr-defined]
            ["poll_id", "person_id", "unit_id", "answered", "unreachable", "nudges"], chosen
        )
        result = await self.session.execute(insert)
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def audience_size(self, units: Sequence[Unit], roles: Sequence[str]) -> AudienceSize:
        """Who a poll to these units and roles would ask, and how many can be written to.

        The same choice of people as :meth:`add_recipients` makes when the poll opens.
        """
        conditions = _audience(units, roles)
        if conditions is None:
            return AudienceSize(0, 0)
        person = col(Membership.person_id)
        reachable = exists().where(
            col(ChannelIdentity.person_id) == person, col(ChannelIdentity.reachable).is_(True)
        )
        result = await self.session.execute(
            sa_select(
                func.count(func.distinct(person)),
                func.count(func.distinct(case((reachable, person)))),
            )
            .join(Unit, col(Unit.id) == Membership.unit_id)
            .join(Person, col(Person.id) == person)
            .where(*conditions)
        )
        people, reached = result.one()
        return AudienceSize(int(people or 0), int(reached or 0))

    async def addressees(
        self,
        poll_id: int,
        *,
        only_unanswered: bool = False,
        only_answered: bool = False,
        max_nudges: int | None = None,
    ) -> list[Addressee]:
        """The reachable accounts of the poll's recipients (some of them, if asked)."""
        query = (
            sa_select(
                col(PollRecipient.person_id),
                col(Person.locale),
                col(ChannelIdentity.channel),
                col(ChannelIdentity.chat_id),
            )
            .join(Person, col(Person.id) == PollRecipient.person_id)
            .join(ChannelIdentity, col(ChannelIdentity.person_id) == PollRecipient.person_id)
            .where(
                col(PollRecipient.poll_id) == poll_id,
                col(ChannelIdentity.reachable).is_(True),
                col(Person.status) == PersonStatus.ACTIVE,
            )
            .order_by(col(PollRecipient.person_id), col(ChannelIdentity.channel))
        )
        if only_unanswered:
            query = query.where(col(PollRecipient.answered).is_(False))
        if only_answered:
            query = query.where(col(PollRecipient.answered).is_(True))
        if max_nudges is not None:
            query = query.where(col(PollRecipient.nudges) < max_nudges)
        rows = await self.session.execute(query)
        return [Addressee(int(p), str(loc), str(ch), str(chat)) for p, loc, ch, chat in rows]

    async def mark_unreachable(self, poll_id: int) -> int:
        """Recipients who have since blocked the bot everywhere: counted, no longer tried."""
        reachable = exists().where(
            col(ChannelIdentity.person_id) == col(PollRecipient.person_id),
            col(ChannelIdentity.reachable).is_(True),
        )
        result = await self.session.execute(
            update(PollRecipient)
            .where(
                col(PollRecipient.poll_id) == poll_id,
                col(PollRecipient.unreachable).is_(False),
                ~reachable,
            )
            .values(unreachable=True)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def count_nudge(self, poll_id: int, person_ids: Sequence[int]) -> None:
        if not person_ids:
            return
        await self.session.execute(
            update(PollRecipient)
            .where(
                col(PollRecipient.poll_id) == poll_id,
                col(PollRecipient.person_id).in_(person_ids),
            )
            .values(nudges=PollRecipient.nudges + 1)
            .execution_options(synchronize_session=False)
        )

    async def adopt(self, person_id: int, now: datetime) -> list[Poll]:
        """Someone who joined after a poll opened is asked too, if it is meant for them."""
        memberships = await self.session.exec(
            select(Membership, Unit)
            .join(Unit, col(Unit.id) == Membership.unit_id)
            .where(Membership.person_id == person_id)
        )
        mine = list(memberships.all())
        adopted = []
        for poll in await self.open_polls():
            if poll.closes_at <= now or poll.id is None:
                continue
            if await self.recipient(poll.id, person_id) is not None:
                continue
            audience = await self.session.exec(
                select(Unit.path).where(col(Unit.id).in_(poll.audience_units))
            )
            paths = list(audience.all())
            fits = [
                unit
                for membership, unit in mine
                if any(unit.path.startswith(path) for path in paths)
                and (not poll.audience_roles or membership.role in poll.audience_roles)
            ]
            if fits and fits[0].id is not None:
                self.session.add(
                    PollRecipient(poll_id=poll.id, person_id=person_id, unit_id=fits[0].id)
                )
                adopted.append(poll)
        await self.session.flush()
        return adopted

    async def recipient(self, poll_id: int, person_id: int) -> PollRecipient | None:
        return await self.session.get(PollRecipient, (poll_id, person_id))

    async def open_for(self, person_id: int, now: datetime) -> Sequence[Poll]:
        """Open polls this person was asked, soonest deadline first."""
        result = await self.session.exec(
            select(Poll)
            .join(PollRecipient, col(PollRecipient.poll_id) == Poll.id)
            .where(
                PollRecipient.person_id == person_id,
                Poll.status == PollStatus.OPEN,
                col(Poll.closes_at) > now,
            )
            .order_by(col(Poll.closes_at), col(Poll.id))
        )
        return result.all()

    # --- answers -----------------------------------------------------------------------

    async def save_answer(
        self,
        poll: Poll,
        question: PollQuestion,
        recipient: PollRecipient,
        options: Sequence[int],
        text: str | None,
        *,
        secret: bytes,
        now: datetime,
    ) -> None:
        """Record (or replace) this person's answer to ``question``."""
        assert question.id is not None
        who = respondent_key(poll, recipient.person_id, secret)
        await self._forget(question.id, who)
        self.session.add(
            PollResponse(
                question_id=question.id,
                respondent=who,
                poll_id=question.poll_id,
                unit_id=recipient.unit_id,
                person_id=None if poll.anonymous else recipient.person_id,
                text=text,
                answered_at=None if poll.anonymous else now,
            )
        )
        await self.session.flush()
        for option in sorted(set(options)):
            self.session.add(
                PollChoice(
                    question_id=question.id,
                    respondent=who,
                    option=option,
                    unit_id=recipient.unit_id,
                )
            )
        await self.session.flush()

    async def _forget(self, question_id: int, who: str) -> None:
        for table in (PollChoice, PollResponse):
            await self.session.execute(
                delete(table).where(
                    col(table.question_id) == question_id,
                    col(table.respondent) == who,
                )
            )

    async def answers_of(
        self, poll: Poll, person_id: int, *, secret: bytes
    ) -> dict[int, GivenAnswer]:
        """This person's answers, by question id (needs the poll to be open if anonymous)."""
        who = respondent_key(poll, person_id, secret)
        assert poll.id is not None
        responses = await self.session.exec(
            select(PollResponse).where(
                PollResponse.poll_id == poll.id, PollResponse.respondent == who
            )
        )
        found = {r.question_id: r for r in responses.all()}
        if not found:
            return {}
        picks = await self.session.exec(
            select(PollChoice).where(
                col(PollChoice.question_id).in_(list(found)), PollChoice.respondent == who
            )
        )
        options: dict[int, list[int]] = {}
        for pick in picks.all():
            options.setdefault(pick.question_id, []).append(pick.option)
        return {
            qid: GivenAnswer(tuple(sorted(options.get(qid, []))), r.text)
            for qid, r in found.items()
        }

    async def set_answered(self, recipient: PollRecipient, answered: bool) -> None:
        if recipient.answered != answered:
            recipient.answered = answered
            self.session.add(recipient)
            await self.session.flush()

    async def close(self, poll: Poll, now: datetime) -> None:
        """No more answers; the salt goes, so anonymous answers can never be tied to anyone."""
        poll.status = PollStatus.CLOSED
        poll.closed_at = now
        poll.answer_salt = None
        self.session.add(poll)
        await self.session.flush()

    async def named_answers(self, person_id: int) -> tuple[int, int]:
        """How many named answers this person gave, in how many polls (for "my data")."""
        result = await self.session.execute(
            sa_select(func.count(), func.count(func.distinct(col(PollResponse.poll_id)))).where(
                col(PollResponse.person_id) == person_id
            )
        )
        answers, polls = result.one()
        return int(answers), int(polls)

    async def forget_person(self, person_id: int) -> None:
        """A person erased their data: their named answers and their place in polls go.

        Anonymous answers cannot be found (that is the point) and stay, counted.
        """
        await self.session.execute(
            delete(PollChoice).where(
                col(PollChoice.respondent) == f"p{person_id}",
            )
        )
        await self.session.execute(delete(PollResponse).where(PollResponse.person_id == person_id))  # type: ignore[arg-type]
        await self.session.execute(
            delete(PollRecipient).where(PollRecipient.person_id == person_id)  # type: ignore[arg-type]
        )
