"""A person's rights over their data: see it, correct the name, change language, delete it."""

from __future__ import annotations

from sqlmodel import col, select

from bot.formatting import format_date, format_datetime
from bot.i18n import N_, Translator
from handlers.base import Answer, Context, Flow, command
from handlers.join import role_label
from handlers.link import CHANNEL_NAMES
from handlers.menu import show_menu
from handlers.oneplusone.mydata import one_plus_one_data
from handlers.people import clean_name, name_problem
from storage.models import Consent

mydata = Flow("mydata")
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}


@command(
    "dulieucuatoi",
    N_("cmd.mydata"),
    menu=True,
    aliases=("du lieu cua toi",),
    order=70,
    guests=True,
)
async def my_data(ctx: Context, _: str) -> None:
    person = ctx.person
    assert person is not None and person.id is not None
    tz = ctx.settings.tz
    roles = [
        ctx.t("mydata.role_line", unit=unit.name, role=role_label(ctx, m.role))
        for m, unit in await ctx.uow.people.memberships(person.id)
    ]
    channels = [
        ctx.t(
            "mydata.channel_line",
            channel=CHANNEL_NAMES.get(i.channel, i.channel),
            since=format_date(i.created_at, tz),
            seen=format_datetime(i.last_seen_at, tz) if i.last_seen_at else "-",
        )
        for i in await ctx.uow.people.identities(person.id)
    ]
    consents = await ctx.uow.session.exec(
        select(Consent)
        .where(Consent.person_id == person.id, col(Consent.withdrawn_at).is_(None))
        .order_by(col(Consent.given_at))
    )
    consent_lines = [
        ctx.t("mydata.consent_line", version=c.text_version, date=format_date(c.given_at, tz))
        for c in consents.all()
    ]
    text = ctx.t(
        "mydata.summary",
        name=person.full_name,
        language=LANGUAGES.get(person.locale, person.locale),
        reminders=ctx.t("mydata.reminders_off")
        if person.mute_reminders
        else ctx.t("mydata.reminders_on"),
        roles="\n".join(roles) or "-",
        channels="\n".join(channels) or "-",
        consents="\n".join(consent_lines) or "-",
    )
    answers, polls = await ctx.uow.polls.named_answers(person.id)
    text += "\n\n" + ctx.t("polls.mydata", answers=answers, polls=polls)
    days, trips = await ctx.uow.visits.held_for(person.id)
    if days or trips:
        text += "\n" + ctx.t("visit.mydata", days=days, trips=trips)
    text += await one_plus_one_data(ctx, person.id)
    ctx.ask(
        mydata("action"),
        text,
        [
            ("rename", ctx.t("mydata.rename")),
            ("language", ctx.t("mydata.language")),
            ("mute", ctx.t("mydata.unmute") if person.mute_reminders else ctx.t("mydata.mute")),
            ("delete", ctx.t("mydata.delete")),
            ("close", ctx.t("common.close")),
        ],
    )


@mydata.step("action")
async def action(ctx: Context, answer: Answer) -> None:
    if answer.key == "rename":
        ctx.ask(mydata("rename"), ctx.t("name.ask"))
    elif answer.key == "language":
        await language(ctx, "")
    elif answer.key == "mute" and ctx.person is not None:
        ctx.person.mute_reminders = not ctx.person.mute_reminders
        ctx.uow.session.add(ctx.person)
        ctx.audit("person.mute_changed", "person", ctx.person.id, muted=ctx.person.mute_reminders)
        ctx.finish()
        ctx.say(ctx.t("mydata.muted") if ctx.person.mute_reminders else ctx.t("mydata.unmuted"))
    elif answer.key == "delete":
        await delete_data(ctx, "")
    else:
        ctx.finish()
        await show_menu(ctx)


@mydata.step("rename", text=True)
async def rename(ctx: Context, answer: Answer) -> None:
    assert ctx.person is not None
    name = clean_name(answer.text or "")
    problem = name_problem(name)
    if problem is not None:
        ctx.ask(mydata("rename"), f"{ctx.t(problem, max=80)}\n{ctx.t('name.ask')}")
        return
    old = ctx.person.full_name
    ctx.person.full_name = name
    ctx.uow.session.add(ctx.person)
    ctx.audit("person.renamed", "person", ctx.person.id, old=old, new=name)
    ctx.finish()
    ctx.say(ctx.t("mydata.renamed", name=name))


@command(
    "ngonngu",
    N_("cmd.language"),
    menu=True,
    aliases=("ngon ngu", "language"),
    order=80,
    guests=True,
)
async def language(ctx: Context, _: str) -> None:
    ctx.ask(mydata("language"), ctx.t("language.ask"), list(LANGUAGES.items()))


@mydata.step("language")
async def language_chosen(ctx: Context, answer: Answer) -> None:
    assert ctx.person is not None
    if answer.key in LANGUAGES:
        ctx.person.locale = answer.key
        ctx.uow.session.add(ctx.person)
        ctx.t = Translator(answer.key)
    ctx.finish()
    ctx.say(ctx.t("language.changed"))
    await show_menu(ctx)


@command("xoadulieu", N_("cmd.delete"), aliases=("xoa du lieu",), order=85, guests=True)
async def delete_data(ctx: Context, _: str) -> None:
    ctx.ask(
        mydata("confirm_delete"),
        ctx.t("delete.confirm"),
        [("delete", ctx.t("delete.yes")), ("keep", ctx.t("delete.no"))],
    )


@mydata.step("confirm_delete")
async def confirm_delete(ctx: Context, answer: Answer) -> None:
    person = ctx.person
    assert person is not None and person.id is not None
    ctx.finish()
    if answer.key != "delete":
        ctx.say(ctx.t("delete.kept"))
        await show_menu(ctx)
        return
    consents = await ctx.uow.session.exec(
        select(Consent).where(Consent.person_id == person.id, col(Consent.withdrawn_at).is_(None))
    )
    for consent in consents.all():
        consent.withdrawn_at = ctx.now
        ctx.uow.session.add(consent)
    for identity in await ctx.uow.people.identities(person.id):
        await ctx.uow.conversations.delete_for_user(identity.channel, identity.platform_user_id)
    await ctx.uow.polls.forget_person(person.id)
    await ctx.uow.visits.forget_person(person.id)
    await ctx.uow.plans.forget_person(person.id)
    await ctx.uow.recruits.forget_young_person(person.id, ctx.now)
    await ctx.uow.recruits.forget_member(person.id, ctx.now)
    await ctx.uow.people.erase(person, ctx.now)
    ctx.audit("person.erased", "person", person.id)
    ctx.say(ctx.t("delete.done"))
