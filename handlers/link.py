"""Linking a second channel: a one-time code from one app, typed into the other."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import N_
from handlers.base import Context, command
from handlers.menu import show_menu
from storage.models import LinkCode, PersonStatus

CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo"}


@command("lienket", N_("cmd.link"), menu=True, aliases=("lien ket",), order=60)
async def link_command(ctx: Context, arg: str) -> None:
    if arg:
        from handlers.join import use_code

        await use_code(ctx, arg)
        return
    assert ctx.person is not None and ctx.person.id is not None
    minutes = ctx.settings.link_code_valid_minutes
    link = await ctx.uow.invites.create_link_code(
        ctx.person.id, ctx.now, timedelta(minutes=minutes)
    )
    ctx.finish()
    other = "Zalo" if ctx.incoming.channel.value == "telegram" else "Telegram"
    ctx.say(ctx.t("link.code", code=link.code, minutes=minutes, other=other))
    ctx.audit("link.code_created", "person", ctx.person.id)


async def use_link_code(ctx: Context, link: LinkCode) -> None:
    """Attach this channel account to the person who asked for the code."""
    if link.used_at is not None or link.expires_at <= ctx.now:
        ctx.say(ctx.t("link.expired"))
        return
    if ctx.person is not None:
        same = ctx.person.id == link.person_id
        ctx.say(ctx.t("link.same_account") if same else ctx.t("link.other_person"))
        return
    person = await ctx.uow.people.get(link.person_id)
    if person is None or person.status != PersonStatus.ACTIVE:
        ctx.say(ctx.t("link.expired"))
        return
    incoming = ctx.incoming
    await ctx.uow.people.add_identity(
        person, incoming.channel.value, incoming.user_id, incoming.chat_id, ctx.now
    )
    link.used_at = ctx.now
    ctx.uow.session.add(link)
    assert person.id is not None
    ctx.person = person
    ctx.roles = {m.role for m, _ in await ctx.uow.people.memberships(person.id)}
    ctx.t.locale = person.locale
    ctx.audit("link.channel_added", "person", person.id, channel=incoming.channel.value)
    ctx.finish()
    intro = ctx.t("link.done", channel=CHANNEL_NAMES[incoming.channel.value], name=person.full_name)
    await show_menu(ctx, intro)
