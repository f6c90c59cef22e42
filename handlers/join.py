"""Joining: invite code -> informed consent -> full name -> placed in the unit and role.

Nothing about the person is stored until they agree; declining keeps nothing.
A person who already joined and opens another invite is offered the new role.
"""

from __future__ import annotations

from bot.i18n import N_
from handlers.base import Answer, Context, Flow
from handlers.link import use_link_code
from handlers.menu import show_menu
from handlers.oneplusone.referral import open_referral, young_person_joined
from handlers.people import clean_name, name_problem
from handlers.polls.answer import offer_open_polls
from storage.codes import normalise_code
from storage.invites import InviteProblem, InviteRepository
from storage.models import Consent, Invite, Person, PersonStatus, Unit

INVITE_PROBLEMS = {
    InviteProblem.UNKNOWN: N_("invite.unknown"),
    InviteProblem.EXPIRED: N_("invite.expired"),
    InviteProblem.USED_UP: N_("invite.used_up"),
    InviteProblem.REVOKED: N_("invite.revoked"),
}

# Bump when the consent text changes: each consent row records the version agreed to.
CONSENT_VERSION = "2026-11-v1"
CONSENT_PURPOSE = "membership"

join = Flow("join")


ROLE_LABELS = {
    "member": N_("role.member"),
    "secretary": N_("role.secretary"),
    "deputy": N_("role.deputy"),
    "cadre": N_("role.cadre"),
    "standing": N_("role.standing"),
    "inspector": N_("role.inspector"),
    "admin": N_("role.admin"),
}


def role_label(ctx: Context, role: str) -> str:
    return ctx.t(ROLE_LABELS.get(role, role))


async def _valid_invite(ctx: Context, invite_id: int) -> tuple[Invite, Unit] | None:
    """The invite if it can still be used; otherwise say why and close the flow."""
    invite = await ctx.uow.session.get(Invite, invite_id)
    problem = InviteRepository.problem(invite, ctx.now)
    if problem is not None or invite is None:
        ctx.finish()
        ctx.say(ctx.t(INVITE_PROBLEMS[problem or InviteProblem.UNKNOWN]))
        return None
    unit = await ctx.uow.units.get(invite.unit_id)
    assert unit is not None
    return invite, unit


async def use_code(ctx: Context, raw: str) -> None:
    """A code typed or opened from a deep link: an invite, a link to another channel, or a
    "1+1" referral."""
    code = normalise_code(raw)
    if code is None:
        ctx.say(ctx.t("invite.unknown"))
        return
    invite = await ctx.uow.invites.by_code(code)
    if invite is None:
        link = await ctx.uow.invites.link_code(code)
        if link is not None:
            await use_link_code(ctx, link)
            return
        recruit = await ctx.uow.recruits.by_code(code)
        if recruit is not None:
            await open_referral(ctx, recruit)
            return
    problem = InviteRepository.problem(invite, ctx.now)
    if problem is not None or invite is None or invite.id is None:
        ctx.say(ctx.t(INVITE_PROBLEMS[problem or InviteProblem.UNKNOWN]))
        return
    unit = await ctx.uow.units.get(invite.unit_id)
    assert unit is not None
    ctx.finish()
    if ctx.person is not None and not ctx.is_guest:
        await _offer_role(ctx, invite, unit)
        return
    ancestors = await ctx.uow.units.ancestors(unit)
    holder = ancestors[0].name if ancestors else unit.name
    ctx.ask(
        join("consent"),
        ctx.t("consent.text", unit=unit.name, holder=holder, role=role_label(ctx, invite.role)),
        [("agree", ctx.t("consent.agree")), ("decline", ctx.t("consent.decline"))],
        data={"invite": invite.id},
    )


async def _offer_role(ctx: Context, invite: Invite, unit: Unit) -> None:
    assert ctx.person is not None and ctx.person.id is not None
    held = {(m.unit_id, m.role) for m, _ in await ctx.uow.people.memberships(ctx.person.id)}
    if (invite.unit_id, invite.role) in held:
        ctx.say(ctx.t("join.already", unit=unit.name, role=role_label(ctx, invite.role)))
        await show_menu(ctx)
        return
    ctx.ask(
        join("add_role"),
        ctx.t("join.add_role_question", unit=unit.name, role=role_label(ctx, invite.role)),
        [("yes", ctx.t("common.accept")), ("no", ctx.t("common.no_thanks"))],
        data={"invite": invite.id},
    )


@join.step("add_role")
async def add_role(ctx: Context, answer: Answer) -> None:
    if answer.key != "yes":
        ctx.finish()
        await show_menu(ctx)
        return
    found = await _valid_invite(ctx, ctx.data["invite"])
    if found is None or ctx.person is None:
        return
    invite, unit = found
    if await ctx.uow.people.add_membership(ctx.person, unit, invite.role):
        await ctx.uow.invites.use(invite)
        ctx.roles.add(invite.role)
        ctx.audit("role.added", "person", ctx.person.id, unit=unit.code, role=invite.role)
    ctx.finish()
    ctx.say(ctx.t("join.role_added", unit=unit.name, role=role_label(ctx, invite.role)))
    await offer_open_polls(ctx)
    await show_menu(ctx)


@join.step("consent")
async def consent(ctx: Context, answer: Answer) -> None:
    if answer.key != "agree":
        ctx.finish()
        ctx.say(ctx.t("consent.declined"))
        return
    found = await _valid_invite(ctx, ctx.data["invite"])
    if found is None:
        return
    invite, _unit = found
    if invite.person_id is not None:
        listed = await ctx.uow.people.get(invite.person_id)
        if listed is not None and listed.full_name:
            await _confirm_name(ctx, listed.full_name)
            return
    await ask_name(ctx)


async def ask_name(ctx: Context, problem: str | None = None) -> None:
    """Ask for the full name, offering the platform's display name when it looks like one."""
    shown = clean_name(ctx.incoming.display_name or "")
    choices = [("display", shown)] if shown and name_problem(shown) is None else []
    text = ctx.t("name.ask")
    if problem:
        text = f"{ctx.t(problem, max=80)}\n{text}"
    ctx.ask(join("name"), text, choices)


@join.step("name", text=True)
async def name_given(ctx: Context, answer: Answer) -> None:
    name = clean_name(answer.choice.label if answer.choice else answer.text or "")
    problem = name_problem(name)
    if problem is not None:
        await ask_name(ctx, problem)
        return
    await _confirm_name(ctx, name)


async def _confirm_name(ctx: Context, name: str) -> None:
    ctx.ask(
        join("confirm_name"),
        ctx.t("name.confirm", name=name),
        [("yes", ctx.t("common.correct")), ("retype", ctx.t("name.retype"))],
        data={"name": name},
    )


@join.step("confirm_name")
async def confirm_name(ctx: Context, answer: Answer) -> None:
    if answer.key == "retype":
        await ask_name(ctx)
        return
    found = await _valid_invite(ctx, ctx.data["invite"])
    if found is None:
        return
    invite, unit = found
    was_guest = ctx.is_guest  # a young person from "1+1": their account is already known
    person = await _person_for(ctx, invite, ctx.data["name"])
    assert person.id is not None
    incoming = ctx.incoming
    if not was_guest:
        await ctx.uow.people.add_identity(
            person, incoming.channel.value, incoming.user_id, incoming.chat_id, ctx.now
        )
    ctx.uow.session.add(
        Consent(
            person_id=person.id,
            purpose=CONSENT_PURPOSE,
            text_version=CONSENT_VERSION,
            channel=incoming.channel.value,
            given_at=ctx.now,
        )
    )
    await ctx.uow.people.add_membership(person, unit, invite.role)
    await ctx.uow.invites.use(invite)
    ctx.person, ctx.roles = person, {invite.role}
    ctx.audit(
        "person.joined",
        "person",
        person.id,
        unit=unit.code,
        role=invite.role,
        channel=incoming.channel.value,
        consent=CONSENT_VERSION,
    )
    ctx.finish()
    if was_guest:
        await young_person_joined(ctx, person)
    welcome = ctx.t(
        "join.welcome", name=person.full_name, unit=unit.name, role=role_label(ctx, invite.role)
    )
    await show_menu(ctx, welcome)
    await offer_open_polls(ctx)


async def _person_for(ctx: Context, invite: Invite, name: str) -> Person:
    """The roster entry a personal invite was made for, the guest a "1+1" referral made,
    or a new person. A guest opening their own roster entry's invite becomes that entry:
    their account, consents and records move to it, and the guest row is closed."""
    locale = ctx.t.locale
    guest = ctx.person if ctx.person is not None and ctx.is_guest else None
    if invite.person_id is not None:
        listed = await ctx.uow.people.get(invite.person_id)
        if listed is not None and listed.status == PersonStatus.INVITED:
            listed.full_name, listed.status, listed.locale = name, PersonStatus.ACTIVE, locale
            ctx.uow.session.add(listed)
            if guest is not None:
                await ctx.uow.people.merge_into(guest, listed, ctx.now)
            return listed
    if guest is not None:
        guest.full_name, guest.status = name, PersonStatus.ACTIVE
        ctx.uow.session.add(guest)
        return guest
    return await ctx.uow.people.add(name, locale, PersonStatus.ACTIVE)
