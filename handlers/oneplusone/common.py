"""What the "1+1" flows share: words for stages and consents, the member's branch, dates."""

from __future__ import annotations

import re
from datetime import date, datetime

from bot.formatting import dmy, format_date
from bot.i18n import N_, Translator
from bot.matching import fold
from handlers.base import Context
from handlers.notify import notify
from handlers.oneplusone.rules import Progress, awaits_secretary, counts, member_progress
from handlers.oneplusone.targets import local_today, per_member_target
from scheduler.notices import send_time
from scheduler.recurrence import parse_date
from storage.models import (
    JoinedAs,
    Person,
    PersonStatus,
    Recruit,
    RecruitConsent,
    RecruitStage,
    Unit,
)
from storage.outbox import INTERACTIVE
from storage.uow import UnitOfWork

RELATIONS = {
    "friend": N_("r11.rel_friend"),
    "relative": N_("r11.rel_relative"),
    "neighbour": N_("r11.rel_neighbour"),
    "classmate": N_("r11.rel_classmate"),
    "colleague": N_("r11.rel_colleague"),
    "other": N_("r11.rel_other"),
}
STAGES = {
    RecruitStage.CONTACTED: N_("r11.stage_contacted"),
    RecruitStage.TOOK_PART: N_("r11.stage_took_part"),
}
JOINED = {
    JoinedAs.UNION: N_("r11.stage_joined_union"),
    JoinedAs.FEDERATION: N_("r11.stage_joined_federation"),
}
CONSENTS = {
    RecruitConsent.PENDING: N_("r11.consent_pending"),
    RecruitConsent.CONFIRMED: N_("r11.consent_confirmed"),
    RecruitConsent.DECLINED: N_("r11.consent_declined"),
    RecruitConsent.LAPSED: N_("r11.consent_lapsed"),
    RecruitConsent.WITHDRAWN: N_("r11.consent_withdrawn"),
    RecruitConsent.DUPLICATE: N_("r11.consent_duplicate"),
}
# Activities are a phrase, not an essay: long enough for "Ngày hội hiến máu xã Phú Thịnh".
ACTIVITY_MAX = 120
# A day and month typed without a year ("15/12") mean the nearest such day, past or coming.
_NO_YEAR = re.compile(r"(?:ngay )?\d{1,2} *(?:[/.-]|thang) *\d{1,2}")


async def quiet_end(ctx: Context, unit_id: int) -> datetime:
    """When a notice to someone else may go out: now, or the end of the unit's quiet hours
    (a young person confirming at 23:00 does not wake the member)."""
    return send_time(await ctx.uow.units.get(unit_id), ctx.settings, ctx.now)


def today(ctx: Context) -> date:
    return local_today(ctx.now, ctx.settings)


def stage_label(t: Translator, recruit: Recruit) -> str:
    if recruit.stage == RecruitStage.JOINED:
        return t(JOINED.get(JoinedAs(recruit.joined_as or JoinedAs.UNION), JOINED[JoinedAs.UNION]))
    return t(STAGES.get(RecruitStage(recruit.stage), STAGES[RecruitStage.CONTACTED]))


def relation_label(t: Translator, relation: str | None) -> str:
    if relation is None:  # wiped with the name
        return "-"
    return t(RELATIONS.get(relation, RELATIONS["other"]))


def shown_name(t: Translator, recruit: Recruit) -> str:
    return recruit.name or t("r11.anonymous")


def is_counted(recruit: Recruit) -> bool:
    return counts(recruit.stage, recruit.consent, recruit.verified_at is not None)


def recruit_line(t: Translator, recruit: Recruit) -> str:
    """ "Lan – Chủ nhật xanh, 15/12/2026: đã tham gia; bạn ấy đã xác nhận ✅" """
    mark = "✅" if is_counted(recruit) else "⏳"
    status = t(CONSENTS[RecruitConsent(recruit.consent)])
    if recruit.verified_at is not None:
        status += t("r11.verified_mark")
    elif awaits_secretary(recruit.stage, recruit.consent, False):
        status += t("r11.awaits_secretary_mark")
    return t(
        "r11.recruit_line",
        mark=mark,
        name=shown_name(t, recruit),
        activity=recruit.activity or "-",
        date=dmy(recruit.activity_on),
        stage=stage_label(t, recruit),
        status=status,
    )


def read_activity_date(text: str, on: date) -> date | None:
    """ "hôm nay", "15/12/2026", "15/12" (the nearest such day), "thứ 7"; None if unreadable."""
    found = parse_date(text, on)
    if found is None or not _NO_YEAR.fullmatch(fold(text)):
        return found
    candidates = []
    for year in (on.year - 1, on.year, on.year + 1):
        try:
            candidates.append(found.replace(year=year))
        except ValueError:  # 29/2
            continue
    return min(candidates, key=lambda day: abs((day - on).days))


def date_problem(day: date, on: date) -> str | None:
    """Why an activity date cannot be recorded, or None. Last year's activities may be
    added until the end of March, while the year can still be evaluated."""
    earliest = date(on.year - 1 if on.month <= 3 else on.year, 1, 1)
    if day < earliest:
        return N_("r11.date_too_old")
    if (day - on).days > 90:
        return N_("r11.date_too_far")
    return None


async def member_branches(uow: UnitOfWork, person_id: int) -> list[Unit]:
    """The branches where this person is a member (or leads as secretary)."""
    return list(await uow.recruits.branches_of(person_id))


async def progress_of(ctx: Context, person: Person, year: int) -> Progress:
    """A member's standing in ``year``: counted recruits against the highest target of
    their branches."""
    assert person.id is not None
    branches = await member_branches(ctx.uow, person.id)
    targets = [await per_member_target(ctx.uow, unit, ctx.settings) for unit in branches]
    counted = await ctx.uow.recruits.counted_by_member([person.id], year)
    return member_progress(counted.get(person.id, 0), max(targets, default=1))


def progress_text(t: Translator, progress: Progress, year: int) -> str:
    numbers = {"year": year, "counted": progress.counted, "target": progress.target}
    if progress.reached:
        return t("r11.progress_reached", **numbers)
    return t("r11.progress_behind", **numbers)


def referral_text(ctx: Context, recruit: Recruit) -> str:
    """How the member passes the code on: a Telegram link, and the code for Zalo."""
    assert recruit.code is not None and recruit.code_expires_at is not None
    until = format_date(recruit.code_expires_at, ctx.settings.tz)
    username = (ctx.settings.telegram_bot_username or "").strip().lstrip("@")
    name = shown_name(ctx.t, recruit)
    code = f"{recruit.code[:4]}-{recruit.code[4:]}"  # easier to read out; typed either way
    if username:
        link = f"https://t.me/{username}?start={recruit.code}"
        return ctx.t("r11.referral_link", name=name, link=link, code=code, until=until)
    return ctx.t("r11.referral_code", name=name, code=code, until=until)


async def tell_member(
    ctx: Context, recruit: Recruit, key: str, *, dedupe_key: str, name: str, secretary: str = "-"
) -> None:
    """Tell the member who recorded ``recruit`` what happened to it, with where they stand
    now (``{progress}``), after the quiet hours of the branch; nothing if they left. An
    empty ``name`` reads "(anonymous)" in the member's language. The messages take
    ``{name}``, ``{activity}``, ``{secretary}`` and ``{progress}`` as they need."""
    member = await ctx.uow.people.get(recruit.member_id) if recruit.member_id else None
    if member is None or member.status != PersonStatus.ACTIVE:
        return
    t = Translator(member.locale)
    progress = await progress_of(ctx, member, recruit.year)
    await notify(
        ctx.uow,
        member,
        key,
        now=ctx.now,
        category="notice",
        dedupe_key=dedupe_key,
        priority=INTERACTIVE,
        not_before=await quiet_end(ctx, recruit.unit_id),
        progress=progress_text(t, progress, recruit.year),
        name=name or t("r11.anonymous"),
        activity=recruit.activity or "-",
        secretary=secretary,
    )
