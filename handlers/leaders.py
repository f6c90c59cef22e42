"""Tools for those who lead a unit: invite members from the chat, see who has joined."""

from __future__ import annotations

from datetime import timedelta

from bot.formatting import format_date
from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.join import role_label
from handlers.menu import show_menu
from handlers.roles import led_units
from storage.models import LEADER_ROLES, PersonStatus, Role, Unit

leaders = Flow("leaders")
LIST_LIMIT = 40  # a phone screen's worth; the CLI exports the full list


async def _pick_unit(ctx: Context, step: str, question_key: str) -> Unit | None:
    """The one unit this person leads, or ask which (returns None while asking)."""
    units = await led_units(ctx)
    if len(units) == 1:
        return units[0]
    ctx.ask(leaders(step), ctx.t(question_key), [(str(u.id), u.name) for u in units])
    return None


@command("moi", N_("cmd.invite"), roles=LEADER_ROLES, menu=True, order=20)
async def invite_command(ctx: Context, _: str) -> None:
    unit = await _pick_unit(ctx, "invite_unit", N_("leaders.which_unit_invite"))
    if unit is not None:
        await _make_invite(ctx, unit)


@leaders.step("invite_unit")
async def invite_unit(ctx: Context, answer: Answer) -> None:
    unit = await _chosen(ctx, answer)
    if unit is not None:
        await _make_invite(ctx, unit)


async def _chosen(ctx: Context, answer: Answer) -> Unit | None:
    units = {str(u.id): u for u in await led_units(ctx)}
    ctx.finish()
    unit = units.get(answer.key or "")
    if unit is None:
        ctx.say(ctx.t("command.not_allowed"))
    return unit


async def _make_invite(ctx: Context, unit: Unit) -> None:
    assert unit.id is not None and ctx.person is not None
    days = ctx.settings.invite_valid_days
    invite = await ctx.uow.invites.create(
        unit_id=unit.id,
        role=Role.MEMBER,
        now=ctx.now,
        valid_for=timedelta(days=days),
        created_by_person_id=ctx.person.id,
    )
    ctx.audit("invite.created", "invite", invite.id, unit=unit.code, role=Role.MEMBER)
    username = ctx.settings.telegram_bot_username
    link = f"https://t.me/{username}?start={invite.code}" if username else "-"
    ctx.finish()
    ctx.say(
        ctx.t(
            "leaders.invite_created",
            unit=unit.name,
            code=invite.code,
            until=format_date(invite.expires_at, ctx.settings.tz),
            link=link,
        )
    )


@command("thanhvien", N_("cmd.members"), roles=LEADER_ROLES, menu=True, order=25)
async def members_command(ctx: Context, _: str) -> None:
    unit = await _pick_unit(ctx, "members_unit", N_("leaders.which_unit_members"))
    if unit is not None:
        await _list_members(ctx, unit)


@leaders.step("members_unit")
async def members_unit(ctx: Context, answer: Answer) -> None:
    unit = await _chosen(ctx, answer)
    if unit is not None:
        await _list_members(ctx, unit)


async def _reachable(ctx: Context, person_id: int) -> bool:
    return any(i.reachable for i in await ctx.uow.people.identities(person_id))


async def _list_members(ctx: Context, unit: Unit) -> None:
    rows = await ctx.uow.people.in_subtree(unit)
    lines = []
    joined = 0
    for person, membership, member_unit in rows:
        active = person.status == PersonStatus.ACTIVE
        joined += active
        mark = "✅" if active else "⏳"
        if active and person.id is not None and not await _reachable(ctx, person.id):
            mark = "🚫"  # blocked the bot on every channel: reminders cannot reach them
        where = "" if member_unit.id == unit.id else f" – {member_unit.name}"
        lines.append(f"{mark} {person.full_name} ({role_label(ctx, membership.role)}){where}")
    more = len(lines) - LIST_LIMIT
    text = ctx.t("leaders.members", unit=unit.name, joined=joined, total=len(rows))
    text += "\n" + ctx.t("leaders.legend")
    body = "\n".join(lines[:LIST_LIMIT]) or ctx.t("leaders.no_members")
    if more > 0:
        body += "\n" + ctx.t("leaders.more_members", count=more)
    ctx.finish()
    ctx.say(f"{text}\n\n{body}")
    await show_menu(ctx)
