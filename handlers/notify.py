"""Proactive messages to people: one outbox row per reachable account, in their language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
    out = message(Translator(person.locale), key, choices=choices, hint_key=hint_key, **params)
    added = 0
    for identity in await uow.people.identities(person.id):
        if not identity.reachable:
            continue
        added += await uow.outbox.add(
            identity.channel,
            replace(out, chat_id=identity.chat_id),
            now=now,
            priority=priority,
            dedupe_key=f"{dedupe_key}:{identity.channel}",
            not_before=not_before,
            category=category,
            person_id=person.id,
        )
    return added


def message(
    t: Translator,
    key: str,
    *,
    choices: Sequence[tuple[str, str]] = (),
    hint_key: str | None = None,
    **params: object,
) -> Outgoing:
    """``key`` in ``t``'s language with its action buttons, for any chat (``chat_id`` empty)."""
    return Outgoing(
        kind="send",
        chat_id="",
        text=t(key, **params),
        choices=[Choice(action, t(label)) for action, label in choices],
        hint=t(hint_key) if hint_key else "",
    )
