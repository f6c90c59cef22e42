"""The pieces every flow is built from: steps, commands, menu items and the context.

A flow is a small state machine. Each step is an async function ``(ctx, answer)``
registered under ``"<flow>.<step>"``; asking a question stores the next step, its
choices and a fresh nonce in the conversation row, so any process can continue it
and an old button can be told apart from the current one.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.config import Settings
from bot.i18n import Translator
from bot.messages import Choice, Incoming, Outgoing
from storage.models import (
    LEADER_ROLES,
    ChannelIdentity,
    Conversation,
    Person,
    PersonStatus,
    Role,
)
from storage.uow import UnitOfWork

QUESTION_KEY = "_question"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the person said to the open question: a choice, or free text."""

    choice: Choice | None = None
    text: str | None = None

    @property
    def key(self) -> str | None:
        return self.choice.key if self.choice else None


StepHandler = Callable[["Context", Answer], Awaitable[None]]
CommandHandler = Callable[["Context", str], Awaitable[None]]
ActionHandler = Callable[["Context", list[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Step:
    name: str  # "<flow>.<step>"
    handler: StepHandler
    accepts_text: bool
    # A pressed button normally edits its question to show the pick and drops the
    # buttons; a step that updates the question itself (toggles) says so here.
    edits_itself: bool = False
    # A photo or a location (``Incoming.has_evidence``) is an answer here too, even
    # without a caption; elsewhere it is refused as unreadable media.
    media: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # as typed after "/" (Telegram allows a-z, 0-9, _)
    handler: CommandHandler
    description: str  # catalog key
    needs_person: bool = True
    roles: frozenset[str] | None = None  # None: everyone who joined
    aliases: tuple[str, ...] = ()  # words a Zalo user may type without the slash
    menu: bool = False  # shown in the main menu
    public: bool = True  # registered with Telegram's setMyCommands
    order: int = 50  # position in menus and help
    takes_text: bool = False  # "vắng vì ốm": the words after an alias are the argument
    # Shown in menus and help only to these roles, where the handler itself checks who
    # may use it (and answers others in its own words); None: as ``roles``.
    shown_to: frozenset[str] | None = None
    # Open to guests too: young people who confirmed a "1+1" referral (their own data).
    guests: bool = False


@dataclass
class Registry:
    steps: dict[str, Step] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, ActionHandler] = field(default_factory=dict)

    def command(self, cmd: Command) -> None:
        self.commands[cmd.name] = cmd

    def by_words(self, text: str, folded: str) -> tuple[Command, str] | None:
        """A command named by an alias without a slash: ``"tro giup"``, ``"vang vi om"``.

        ``folded`` is ``text`` lowercased without diacritics; the argument is taken
        from the original ``text`` so the person's own words are kept.
        """
        for cmd in self.commands.values():
            for alias in cmd.aliases:
                if folded == alias:
                    return cmd, ""
                if cmd.takes_text and folded.startswith(alias + " "):
                    words = text.split()
                    return cmd, " ".join(words[len(alias.split()) :])
        return None


REGISTRY = Registry()


def action(name: str, registry: Registry = REGISTRY) -> Callable[[ActionHandler], ActionHandler]:
    """Register a handler for buttons ``!name:arg1:arg2`` on proactive messages."""

    def register(handler: ActionHandler) -> ActionHandler:
        registry.actions[name] = handler
        return handler

    return register


class Flow:
    """Groups the steps of one conversation under a name."""

    def __init__(self, name: str, registry: Registry = REGISTRY) -> None:
        self.name = name
        self.registry = registry

    def step(
        self, name: str, *, text: bool = False, edits_itself: bool = False, media: bool = False
    ) -> Callable[[StepHandler], StepHandler]:
        def register(handler: StepHandler) -> StepHandler:
            full = f"{self.name}.{name}"
            self.registry.steps[full] = Step(full, handler, text, edits_itself, media)
            return handler

        return register

    def __call__(self, step: str) -> str:
        """``join("consent")`` -> ``"join.consent"``: the id used by ``Context.ask``."""
        return f"{self.name}.{step}"


def command(
    name: str,
    description: str,
    *,
    needs_person: bool = True,
    roles: Iterable[str] | None = None,
    aliases: Iterable[str] = (),
    menu: bool = False,
    public: bool = True,
    order: int = 50,
    takes_text: bool = False,
    shown_to: Iterable[str] | None = None,
    guests: bool = False,
    registry: Registry = REGISTRY,
) -> Callable[[CommandHandler], CommandHandler]:
    def register(handler: CommandHandler) -> CommandHandler:
        registry.command(
            Command(
                name,
                handler,
                description,
                needs_person,
                frozenset(roles) if roles is not None else None,
                tuple(aliases),
                menu,
                public,
                order,
                takes_text,
                frozenset(shown_to) if shown_to is not None else None,
                guests,
            )
        )
        return handler

    return register


class Context:
    """Everything one step may use, and what it has decided to say.

    Flows append replies here; the engine writes them to the outbox in the same
    transaction as the flow's changes.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        settings: Settings,
        incoming: Incoming,
        now: datetime,
        identity: ChannelIdentity | None,
        person: Person | None,
        roles: set[str],
        state: Conversation | None,
    ) -> None:
        self.uow = uow
        self.settings = settings
        self.incoming = incoming
        self.now = now
        self.identity = identity
        self.person = person
        self.roles = roles
        self.state = state
        self.t = Translator(person.locale if person else settings.default_locale)
        self.outputs: list[Outgoing] = []
        self.expired = False  # the open flow timed out before this event
        self._state_changed = False
        self._state_deleted = False

    # --- who is talking ---------------------------------------------------
    @property
    def person_id(self) -> int | None:
        return self.person.id if self.person else None

    @property
    def is_guest(self) -> bool:
        """A young person who confirmed a "1+1" referral: no roles, only their own data."""
        return self.person is not None and self.person.status == PersonStatus.GUEST

    @property
    def is_leader(self) -> bool:
        return bool(self.roles & LEADER_ROLES)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def data(self) -> dict[str, Any]:
        """The open flow's scratch data (empty when no flow is open)."""
        return self.state.data if self.state else {}

    # --- saying things ----------------------------------------------------
    def say(self, text: str) -> None:
        self.outputs.append(Outgoing(kind="send", chat_id=self.incoming.chat_id, text=text))

    def ask(
        self,
        step: str,
        text: str,
        choices: Iterable[tuple[str, str]] = (),
        *,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Ask a question and wait at ``step`` for the answer (a choice or text)."""
        flow, _, step_name = step.partition(".")
        keep = dict(self.state.data) if self.state and self.state.flow == flow else {}
        keep.update(data or {})
        keep[QUESTION_KEY] = text
        options = [Choice(key, label) for key, label in choices]
        nonce = secrets.token_urlsafe(6)[:8]
        incoming = self.incoming
        self.state = Conversation(
            channel=incoming.channel.value,
            chat_id=incoming.chat_id,
            user_id=incoming.user_id,
            flow=flow,
            step=step_name,
            data=keep,
            choices=[[c.key, c.label] for c in options],
            nonce=nonce,
            expires_at=self.now + timedelta(minutes=self.settings.flow_timeout_minutes),
            updated_at=self.now,
        )
        self._state_changed = True
        self._state_deleted = False
        self.outputs.append(self.question(text, options, nonce))

    def ask_in_place(
        self,
        step: str,
        text: str,
        choices: Iterable[tuple[str, str]],
        *,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Ask again by updating the message whose button was pressed (a toggle).

        Where there is no such message (typed answers, Zalo) the question is sent anew.
        """
        ref = self.incoming.message_ref
        self.ask(step, text, choices, data=data)
        if ref is None:
            return
        sent = self.outputs[-1]
        sent.kind, sent.message_ref, sent.skip_if_no_edit = "edit", ref, True

    def question(self, text: str, options: list[Choice], nonce: str) -> Outgoing:
        hint = self.t("choice.hint", n=len(options)) if options else ""
        return Outgoing(
            kind="send",
            chat_id=self.incoming.chat_id,
            text=text,
            choices=options,
            nonce=nonce,
            hint=hint,
        )

    def repeat_question(self) -> None:
        """Show the open question again, with the same nonce so its buttons stay valid."""
        if self.state is None:
            return
        options = [Choice(k, label) for k, label in self.state.choices]
        text = str(self.state.data.get(QUESTION_KEY, ""))
        self.outputs.append(self.question(text, options, self.state.nonce))

    def finish(self) -> None:
        """Close the open flow: its state row is deleted."""
        if self.state is not None:
            self._state_deleted = True
            self._state_changed = False
        self.state = None

    def answer_button(self, notice: str = "") -> None:
        if self.incoming.callback_id:
            self.outputs.append(
                Outgoing(
                    kind="answer",
                    chat_id=self.incoming.chat_id,
                    callback_id=self.incoming.callback_id,
                    text=notice,
                )
            )

    def show_choice(self, label: str) -> None:
        """Edit the question the button was on, so it shows what was picked."""
        incoming = self.incoming
        if incoming.message_ref is None:
            return
        question = str(self.data.get(QUESTION_KEY) or incoming.message_text or "")
        self.outputs.append(
            Outgoing(
                kind="edit",
                chat_id=incoming.chat_id,
                message_ref=incoming.message_ref,
                text=self.t("choice.picked", question=question, label=label).strip(),
            )
        )

    def audit(self, action: str, entity: str, entity_id: object = None, **details: Any) -> None:
        self.uow.audit.record(
            action,
            entity,
            entity_id,
            actor_person_id=self.person.id if self.person else None,
            **details,
        )

    # --- used by the engine ----------------------------------------------
    @property
    def state_changed(self) -> bool:
        return self._state_changed

    @property
    def state_deleted(self) -> bool:
        return self._state_deleted
