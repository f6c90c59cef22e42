"""Storing a checked poll: its units resolved, its audience kept inside the owner's subtree."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import N_
from handlers.polls.spec import PollSpec
from storage.models import Poll, PollQuestion, PollStatus
from storage.uow import UnitOfWork


class PollRefused(Exception):
    """The spec names a unit that does not exist or lies outside the owner's subtree."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key  # a catalog key ("polls.error_unit")
        self.params = params


async def store_poll(
    uow: UnitOfWork, spec: PollSpec, *, now: datetime, created_by: int | None
) -> Poll:
    """Add the poll (scheduled; the scheduler sends it out when it opens)."""
    owner = await uow.units.by_code(spec.unit)
    if owner is None or owner.id is None:
        raise PollRefused(N_("polls.error_unit"), code=spec.unit)
    audience: list[int] = []
    for code in spec.units or [spec.unit]:
        unit = await uow.units.by_code(code)
        if unit is None or unit.id is None:
            raise PollRefused(N_("polls.error_unit"), code=code)
        if not unit.path.startswith(owner.path):
            raise PollRefused(N_("polls.error_outside"), code=code, owner=owner.name)
        audience.append(unit.id)
    if spec.closes_at <= now:
        raise PollRefused(N_("polls.error_deadline_past"))
    opens_at = max(spec.opens_at or now, now)
    poll = Poll(
        unit_id=owner.id,
        title=spec.title,
        intro=spec.intro,
        anonymous=spec.anonymous,
        results_to_respondents=spec.show_results,
        audience_units=audience,
        audience_roles=[r.value for r in spec.roles],
        opens_at=opens_at,
        closes_at=spec.closes_at,
        status=PollStatus.SCHEDULED,
        created_by_person_id=created_by,
        created_at=now,
    )
    questions = [
        PollQuestion(
            poll_id=0,
            position=0,
            kind=q.kind.value,
            text=q.text,
            options=q.options,
            allow_other=q.other,
            required=q.required,
        )
        for q in spec.questions
    ]
    await uow.polls.add(poll, questions)
    uow.audit.record(
        "poll.created",
        "poll",
        poll.id,
        actor_person_id=created_by,
        actor="bot" if created_by else "cli",
        unit=owner.code,
        questions=len(questions),
        anonymous=spec.anonymous,
    )
    return poll
