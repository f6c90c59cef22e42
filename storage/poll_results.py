"""Poll results from the database: counts grouped by the answering person's unit.

SQL groups by leaf unit (a few rows per unit and option, whatever the number of
answers) and ``handlers.polls.results`` rolls them up the unit tree, so a province's
results take three grouped queries. The small-cell rule is applied there, after the
roll-up: the raw leaf counts read here must never be shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, not_, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Person,
    Poll,
    PollChoice,
    PollQuestion,
    PollRecipient,
    PollResponse,
    Unit,
)


@dataclass(frozen=True)
class Participation:
    """People asked, people the poll reached, people who answered."""

    targeted: int = 0
    reached: int = 0
    answered: int = 0

    def __add__(self, other: Participation) -> Participation:
        return Participation(
            self.targeted + other.targeted,
            self.reached + other.reached,
            self.answered + other.answered,
        )

    @property
    def unreached(self) -> int:
        return self.targeted - self.reached

    @property
    def rate(self) -> float | None:
        """Answered out of everyone asked; None when nobody was asked."""
        return self.answered / self.targeted if self.targeted else None


@dataclass
class PollCounts:
    """A poll's raw counts per leaf unit (not yet safe to show for an anonymous poll)."""

    #: (question id, unit id, option number) -> people who picked that option
    choices: dict[tuple[int, int, int], int] = field(default_factory=dict)
    #: (question id, unit id) -> people who answered the question
    respondents: dict[tuple[int, int], int] = field(default_factory=dict)
    #: unit id -> who was asked, reached and answered there
    participation: dict[int, Participation] = field(default_factory=dict)


@dataclass(frozen=True)
class TextAnswer:
    """Words someone wrote (a free-text answer or an "other" option)."""

    unit_id: int
    text: str
    person_id: int | None  # None in an anonymous poll
    answered_at: datetime | None  # None in an anonymous poll


@dataclass(frozen=True)
class RawAnswer:
    """One person's answer to one question of a named poll, for the export."""

    person_name: str | None  # None once the person erased their data
    unit_id: int
    unit_name: str
    question_id: int
    options: tuple[int, ...]
    text: str | None
    answered_at: datetime | None


async def load_counts(session: AsyncSession, poll_id: int) -> PollCounts:
    """Choice counts, respondents and participation of a poll, each grouped by leaf unit.

    Three queries whatever the size of the poll; the choice count is answered from
    the ``ix_poll_choice_count`` index (question, unit, option) alone.
    """
    counts = PollCounts()
    questions = select(PollQuestion.id).where(PollQuestion.poll_id == poll_id)
    choices = await session.exec(
        select(PollChoice.question_id, PollChoice.unit_id, PollChoice.option, func.count())
        .where(col(PollChoice.question_id).in_(questions))
        .group_by(col(PollChoice.question_id), col(PollChoice.unit_id), col(PollChoice.option))
    )
    for question_id, unit_id, option, n in choices.all():
        counts.choices[(question_id, unit_id, option)] = n
    respondents = await session.exec(
        select(PollResponse.question_id, PollResponse.unit_id, func.count())
        .where(PollResponse.poll_id == poll_id)
        .group_by(col(PollResponse.question_id), col(PollResponse.unit_id))
    )
    for question_id, unit_id, n in respondents.all():
        counts.respondents[(question_id, unit_id)] = n
    answered = col(PollRecipient.answered)
    # Someone who answered was reached, even if their account was marked unreachable later.
    reached = or_(answered, not_(col(PollRecipient.unreachable)))
    people = await session.exec(
        select(
            PollRecipient.unit_id,
            func.count(),
            func.sum(case((reached, 1), else_=0)),
            func.sum(case((answered, 1), else_=0)),
        )
        .where(PollRecipient.poll_id == poll_id)
        .group_by(col(PollRecipient.unit_id))
    )
    for unit_id, targeted, n_reached, n_answered in people.all():
        counts.participation[unit_id] = Participation(
            int(targeted), int(n_reached or 0), int(n_answered or 0)
        )
    return counts


async def load_texts(session: AsyncSession, question_id: int) -> list[TextAnswer]:
    """Every non-empty written answer to a question (free text or "other").

    Ordered by respondent key, which for an anonymous poll is a keyed hash: the order
    says nothing about who answered when.
    """
    result = await session.exec(
        select(
            PollResponse.unit_id,
            PollResponse.text,
            PollResponse.person_id,
            PollResponse.answered_at,
        )
        .where(
            PollResponse.question_id == question_id,
            col(PollResponse.text).is_not(None),
            PollResponse.text != "",
        )
        .order_by(col(PollResponse.respondent))
    )
    return [
        TextAnswer(unit_id, text, person_id, answered_at)
        for unit_id, text, person_id, answered_at in result.all()
        if text and text.strip()
    ]


async def load_raw_answers(session: AsyncSession, poll: Poll) -> list[RawAnswer]:
    """Who answered what in a NAMED poll, in question order then by name.

    Refuses an anonymous poll: its answers must never be listed one by one.
    """
    if poll.anonymous:
        raise ValueError("an anonymous poll has no answers by name")
    # Eight columns: more than sqlmodel's typed select takes, hence SQLAlchemy's own.
    responses = await session.execute(
        sa_select(
            col(PollResponse.question_id),
            col(PollResponse.respondent),
            col(Person.full_name),
            col(PollResponse.unit_id),
            col(Unit.name),
            col(PollResponse.text),
            col(PollResponse.answered_at),
            col(PollQuestion.position),
        )
        .join(PollQuestion, col(PollQuestion.id) == PollResponse.question_id)
        .join(Unit, col(Unit.id) == PollResponse.unit_id)
        .outerjoin(Person, col(Person.id) == PollResponse.person_id)
        .where(col(PollResponse.poll_id) == poll.id)
    )
    rows = list(responses.all())
    picked: dict[tuple[int, str], list[int]] = {}
    choices = await session.exec(
        select(PollChoice.question_id, PollChoice.respondent, PollChoice.option)
        .where(
            col(PollChoice.question_id).in_(
                select(PollQuestion.id).where(PollQuestion.poll_id == poll.id)
            )
        )
        .order_by(col(PollChoice.option))
    )
    for question_id, respondent, option in choices.all():
        picked.setdefault((question_id, respondent), []).append(option)
    answers = [
        (
            position,
            RawAnswer(
                person_name=name,
                unit_id=unit_id,
                unit_name=unit_name,
                question_id=question_id,
                options=tuple(picked.get((question_id, respondent), ())),
                text=text,
                answered_at=answered_at,
            ),
        )
        for question_id, respondent, name, unit_id, unit_name, text, answered_at, position in rows
    ]
    answers.sort(key=lambda a: (a[0], (a[1].person_name or "").casefold(), a[1].unit_name))
    return [answer for _, answer in answers]
