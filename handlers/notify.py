"""Proactive messages to people: one outbox row per reachable account, in their language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.i18n import Translator
from bot.messages import Choice, Outgoing
from storage.models import Person
from storage.outbox import BULK
from storage.uow import UnitOfWork


async def notify(
    uow: UnitOfWork,
    person: Person,
    key: str,
    *,
    now: datetime,
    category: str,
    dedupe_key: str,
    not_before: datetime | None = None,
    choices: Sequence[tuple[str, str]] = (),
    hint_key: str | None = None,
    priority: int = BULK,
    **params: object,
) -> int:
    """Queue ``key`` (translated for ``person``) to each of their reachable accounts.

    ``choices`` are (action key, label catalog key) pairs; ``dedupe_key`` makes a
    repeated decision (a restart, a second scheduler) a no-op. Returns rows added.
    """
    assert person.id is not None
    t = Translator(person.locale)
    text = t(key, **params)
    options = [Choice(action, t(label)) for action, label in choices]
    added = 0
    for identity in await uow.people.identities(person.id):
        if not identity.reachable:
            continue
        out = Outgoing(
            kind="send",
            chat_id=identity.chat_id,
            text=text,
            choices=options,
            hint=t(hint_key) if hint_key else "",
        )
        added += await uow.outbox.add(
            identity.channel,
            out,
            now=now,
            priority=priority,
            dedupe_key=f"{dedupe_key}:{identity.channel}",
            not_before=not_before,
            category=category,
            person_id=person.id,
        )
    return added
