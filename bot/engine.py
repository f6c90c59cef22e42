"""The conversation engine: one incoming event -> the flow's decision -> replies.

It finds who is talking, loads their conversation row, turns a pressed button or a
typed answer ("2", "hai", "dong y") into the open question's choice, runs the step
or command, and saves the new state. It never talks to a platform: replies are
returned as ``Outgoing`` actions that the caller writes to the outbox in the same
transaction.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.config import Settings
from bot.matching import fold, match_choice, parse_number
from bot.messages import ACTION_PREFIX, ChatKind, Choice, Incoming, Outgoing
from handlers.base import REGISTRY, Answer, Command, Context, Registry
from storage.codes import normalise_code
from storage.models import PersonStatus
from storage.uow import UnitOfWork

_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
# Typed without a slash, these always mean "cancel", even where free text is expected.
_ALWAYS_CANCEL = {"hủy", "huỷ", "/huy"}


class ConversationEngine:
    def __init__(self, settings: Settings, registry: Registry = REGISTRY) -> None:
        self.settings = settings
        self.registry = registry

    async def handle(self, uow: UnitOfWork, incoming: Incoming, now: datetime) -> list[Outgoing]:
        ctx = await self._context(uow, incoming, now)
        await self._dispatch(ctx)
        await self._save_state(ctx)
        return ctx.outputs

    async def _context(self, uow: UnitOfWork, incoming: Incoming, now: datetime) -> Context:
        identity = await uow.people.identity(incoming.channel.value, incoming.user_id)
        person = await uow.people.get(identity.person_id) if identity else None
        if person is not None and person.status == PersonStatus.DELETED:
            identity, person = None, None
        roles: set[str] = set()
        if identity is not None and person is not None and person.id is not None:
            identity.last_seen_at = now
            if not identity.reachable:  # they wrote to us, so they unblocked the bot
                identity.reachable, identity.blocked_at = True, None
            if incoming.chat_kind == ChatKind.PRIVATE:
                identity.chat_id = incoming.chat_id
            uow.session.add(identity)
            roles = {m.role for m, _ in await uow.people.memberships(person.id)}
        state = await uow.conversations.get(
            incoming.channel.value, incoming.chat_id, incoming.user_id
        )
        ctx = Context(
            uow=uow,
            settings=self.settings,
            incoming=incoming,
            now=now,
            identity=identity,
            person=person,
            roles=roles,
            state=state,
        )
        if state is not None and state.expires_at <= now:
            ctx.finish()
            # A main menu left open is nothing lost; an unfinished flow is worth a word.
            ctx.expired = state.flow != "menu"
        return ctx

    async def _dispatch(self, ctx: Context) -> None:
        incoming = ctx.incoming
        if incoming.chat_kind == ChatKind.GROUP:
            await self._group(ctx)
            return
        if incoming.callback_data is not None:
            await self._button(ctx, incoming.callback_data)
            return
        text = (incoming.text or "").strip()
        step = self.registry.steps.get(f"{ctx.state.flow}.{ctx.state.step}") if ctx.state else None
        if not text and incoming.has_evidence and step is not None and step.media:
            await self._run_step(ctx, Answer())  # the step reads the photo or place itself
            return
        if not text:
            ctx.say(
                ctx.t("input.media_unsupported") if incoming.has_media else ctx.t("input.empty")
            )
            ctx.repeat_question()
            return
        found = self._command(text, free_text=bool(step and step.accepts_text))
        if found is not None:
            cmd, arg = found
            await self._run_command(ctx, cmd, arg)
            return
        if ctx.state is not None and step is not None:
            await self._answer(ctx, text, step.accepts_text)
            return
        if ctx.state is not None:  # a step that no longer exists (after an upgrade)
            ctx.finish()
        await self._no_flow(ctx, text)

    async def _group(self, ctx: Context) -> None:
        text = (ctx.incoming.text or "").strip()
        if ctx.incoming.callback_data is not None:
            ctx.answer_button(ctx.t("group.private_only"))
        elif text.startswith("/"):
            ctx.say(ctx.t("group.private_only"))

    async def _button(self, ctx: Context, data: str) -> None:
        if data.startswith(ACTION_PREFIX):
            await self._action(ctx, data)
            return
        nonce, _, key = data.partition(":")
        state = ctx.state
        if state is None or nonce != state.nonce:
            ctx.answer_button(ctx.t("button.expired") if ctx.expired else ctx.t("button.stale"))
            return
        choices = {k: label for k, label in state.choices}
        if key not in choices:
            ctx.answer_button(ctx.t("button.stale"))
            return
        ctx.answer_button()
        step = self.registry.steps.get(f"{state.flow}.{state.step}")
        if step is None or not step.edits_itself:
            ctx.show_choice(choices[key])
        await self._run_step(ctx, Answer(choice=Choice(key, choices[key])))

    async def _action(self, ctx: Context, data: str) -> None:
        name, *args = data[len(ACTION_PREFIX) :].split(":")
        handler = self.registry.actions.get(name)
        if handler is None or ctx.person is None:
            ctx.answer_button(ctx.t("button.stale"))
            return
        await handler(ctx, args)

    def _command(self, text: str, *, free_text: bool) -> tuple[Command, str] | None:
        match = _COMMAND_RE.match(text)
        if match:
            name = match.group(1).lower()
            cmd = self.registry.commands.get(name)
            if cmd is None:
                cmd = self.registry.commands["unknown"]
                return cmd, name
            return cmd, (match.group(2) or "").strip()
        if text.lower() in _ALWAYS_CANCEL:
            return self.registry.commands["huy"], ""
        if free_text:
            return None
        return self.registry.by_words(text, fold(text))

    async def _run_command(self, ctx: Context, cmd: Command, arg: str) -> None:
        if cmd.needs_person and ctx.person is None:
            ctx.say(ctx.t("join.needed"))
            return
        if cmd.needs_person and ctx.is_guest and not cmd.guests:
            ctx.say(ctx.t("r11.guest_not_member"))
            return
        if cmd.roles is not None and not (ctx.roles & cmd.roles):
            ctx.say(ctx.t("command.not_allowed"))
            return
        await cmd.handler(ctx, arg)

    async def _answer(self, ctx: Context, text: str, accepts_text: bool) -> None:
        state = ctx.state
        assert state is not None
        choices = [Choice(k, label) for k, label in state.choices]
        if not choices:
            await self._run_step(ctx, Answer(text=text))
            return
        if accepts_text:
            # Free text is welcome here: only a number or an option's exact words pick it.
            number = parse_number(text)
            folded = fold(text)
            exact = [c for c in choices if fold(c.label) == folded or c.key == folded]
            if number is not None and 1 <= number <= len(choices):
                await self._run_step(ctx, Answer(choice=choices[number - 1]))
            elif exact:
                await self._run_step(ctx, Answer(choice=exact[0]))
            else:
                await self._run_step(ctx, Answer(text=text))
            return
        result = match_choice(text, choices)
        if result.choice is not None:
            await self._run_step(ctx, Answer(choice=result.choice))
        elif normalise_code(text) is not None:
            ctx.finish()  # an invite or link code typed while a question was open
            await self._no_flow(ctx, text)
        elif result.ambiguous:
            numbered = ", ".join(f"{choices.index(c) + 1}. {c.label}" for c in result.ambiguous)
            ctx.say(ctx.t("choice.ambiguous", options=numbered))
        else:
            ctx.say(ctx.t("choice.not_understood", n=len(choices)))
            ctx.repeat_question()

    async def _run_step(self, ctx: Context, answer: Answer) -> None:
        state = ctx.state
        assert state is not None
        step = self.registry.steps[f"{state.flow}.{state.step}"]
        await step.handler(ctx, answer)

    async def _no_flow(self, ctx: Context, text: str) -> None:
        code = normalise_code(text)
        if code is not None:
            await self.registry.commands["start"].handler(ctx, code)
            return
        if ctx.expired:
            ctx.say(ctx.t("flow.expired"))
        if ctx.person is None:
            ctx.say(ctx.t("stranger.hello"))
            return
        ctx.say(ctx.t("fallback.not_understood"))
        await self.registry.commands["menu"].handler(ctx, "")

    async def _save_state(self, ctx: Context) -> None:
        incoming = ctx.incoming
        if ctx.state_changed and ctx.state is not None:
            await ctx.uow.conversations.save(ctx.state)
        elif ctx.state_deleted:
            await ctx.uow.conversations.delete(
                incoming.channel.value, incoming.chat_id, incoming.user_id
            )
