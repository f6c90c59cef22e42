"""The secretary sets the branch's meetings by conversation: regular, one-off, moved, cancelled."""

from __future__ import annotations

import secrets
from datetime import datetime, time

from bot.i18n import N_
from handlers.base import Answer, Context, Flow, command
from handlers.meetings.common import describe, tell_attendees, when
from handlers.meetings.occurrences import materialize
from handlers.menu import show_menu
from handlers.roles import led_units
from scheduler.recurrence import parse_date, parse_rule, parse_time
from storage.models import LEADER_ROLES, Meeting, MeetingSeries, MeetingStatus, Unit

schedule = Flow("schedule")
REPEAT_KEYS = {
    "monthly": N_("schedule.repeat_monthly"),
    "quarterly": N_("schedule.repeat_quarterly"),
}
TEXT_MAX = 200


@command(
    "lichsinhhoat",
    N_("cmd.meetings"),
    roles=LEADER_ROLES,
    menu=True,
    aliases=("lich sinh hoat", "lich hop"),
    order=10,
)
async def meetings_command(ctx: Context, _: str) -> None:
    units = await led_units(ctx)
    if len(units) == 1:
        await overview(ctx, units[0])
        return
    ctx.ask(schedule("unit"), ctx.t("schedule.which_unit"), [(str(u.id), u.name) for u in units])


@schedule.step("unit")
async def unit_chosen(ctx: Context, answer: Answer) -> None:
    units = {str(u.id): u for u in await led_units(ctx)}
    unit = units.get(answer.key or "")
    if unit is None:
        ctx.finish()
        ctx.say(ctx.t("command.not_allowed"))
        return
    await overview(ctx, unit)


async def overview(ctx: Context, unit: Unit) -> None:
    assert unit.id is not None
    upcoming = await ctx.uow.meetings.upcoming(unit.id, ctx.now, limit=3)
    lines = "\n\n".join(describe(ctx, m) for m in upcoming) or ctx.t("schedule.none")
    choices = [
        ("monthly", ctx.t("schedule.monthly")),
        ("quarterly", ctx.t("schedule.quarterly")),
        ("once", ctx.t("schedule.once")),
    ]
    if upcoming:
        choices.append(("change", ctx.t("schedule.change")))
    choices.append(("close", ctx.t("common.close")))
    ctx.ask(
        schedule("what"),
        ctx.t("schedule.overview", unit=unit.name, meetings=lines),
        choices,
        data={"unit": unit.id},
    )


@schedule.step("what")
async def what(ctx: Context, answer: Answer) -> None:
    if answer.key in ("monthly", "quarterly"):
        ctx.ask(schedule("rule"), ctx.t("schedule.ask_rule"), data={"mode": answer.key})
    elif answer.key == "once":
        ctx.ask(schedule("date"), ctx.t("schedule.ask_date"), data={"mode": "once"})
    elif answer.key == "change":
        upcoming = await ctx.uow.meetings.upcoming(ctx.data["unit"], ctx.now, limit=5)
        ctx.ask(
            schedule("pick"),
            ctx.t("schedule.ask_pick"),
            [(str(m.id), when(ctx, m)) for m in upcoming],
        )
    else:
        ctx.finish()
        await show_menu(ctx)


@schedule.step("rule", text=True)
async def rule_given(ctx: Context, answer: Answer) -> None:
    rule = parse_rule(answer.text or "")
    if rule is None:
        ctx.ask(schedule("rule"), ctx.t("schedule.bad_rule") + "\n" + ctx.t("schedule.ask_rule"))
        return
    if ctx.data["mode"] == "quarterly":
        ctx.ask(schedule("approved"), ctx.t("schedule.ask_approved"), data={"rule": rule})
        return
    ctx.ask(schedule("time"), ctx.t("schedule.ask_time"), data={"rule": rule})


@schedule.step("approved", text=True)
async def approved_given(ctx: Context, answer: Answer) -> None:
    text = " ".join((answer.text or "").split())[:TEXT_MAX]
    ctx.ask(schedule("time"), ctx.t("schedule.ask_time"), data={"approved": text})


@schedule.step("date", text=True)
async def date_given(ctx: Context, answer: Answer) -> None:
    today = ctx.now.astimezone(ctx.settings.tz).date()
    day = parse_date(answer.text or "", today)
    if day is None or day < today:
        key = N_("schedule.bad_date") if day is None else N_("schedule.past_date")
        ctx.ask(schedule("date"), ctx.t(key) + "\n" + ctx.t("schedule.ask_date"))
        return
    ctx.ask(schedule("time"), ctx.t("schedule.ask_time"), data={"date": day.isoformat()})


@schedule.step("time", text=True)
async def time_given(ctx: Context, answer: Answer) -> None:
    at = parse_time(answer.text or "")
    if at is None:
        ctx.ask(schedule("time"), ctx.t("schedule.bad_time") + "\n" + ctx.t("schedule.ask_time"))
        return
    if ctx.data.get("move"):
        await _apply_move(ctx, at)
        return
    if ctx.data["mode"] == "once" and _local_start(ctx, ctx.data["date"], at) <= ctx.now:
        ctx.ask(schedule("date"), ctx.t("schedule.past_date") + "\n" + ctx.t("schedule.ask_date"))
        return
    ctx.ask(schedule("place"), ctx.t("schedule.ask_place"), data={"time": at})


@schedule.step("place", text=True)
async def place_given(ctx: Context, answer: Answer) -> None:
    text = " ".join((answer.text or "").split())
    if not text or len(text) > TEXT_MAX:
        ctx.ask(
            schedule("place"),
            ctx.t("schedule.bad_text", max=TEXT_MAX) + "\n" + ctx.t("schedule.ask_place"),
        )
        return
    online = text.lower().startswith(("http://", "https://"))
    ctx.ask(
        schedule("theme"),
        ctx.t("schedule.ask_theme"),
        [("skip", ctx.t("common.skip"))],
        data={"url" if online else "place": text},
    )


@schedule.step("theme", text=True)
async def theme_given(ctx: Context, answer: Answer) -> None:
    theme = None if answer.key == "skip" else " ".join((answer.text or "").split())[:TEXT_MAX]
    data = {**ctx.data, "theme": theme}
    ctx.ask(
        schedule("confirm"),
        ctx.t("schedule.confirm", summary=_summary(ctx, data)),
        [("save", ctx.t("common.save")), ("cancel", ctx.t("common.cancel"))],
        data={"theme": theme},
    )


def _summary(ctx: Context, data: dict[str, object]) -> str:
    if data["mode"] == "once":
        start = _local_start(ctx, str(data["date"]), str(data["time"]))
        repeat = ctx.t("schedule.repeat_once", date=start.strftime("%d/%m/%Y"))
    else:
        rule = data["rule"]
        assert isinstance(rule, dict)
        repeat_key = REPEAT_KEYS[str(data["mode"])]
        repeat = ctx.t(repeat_key, rule=_rule_text(ctx, rule))
    return ctx.t(
        "schedule.summary",
        repeat=repeat,
        time=data["time"],
        where=data.get("url") or data.get("place") or "-",
        theme=data.get("theme") or "-",
    )


def _rule_text(ctx: Context, rule: dict[str, object]) -> str:
    if rule["kind"] == "day":
        return ctx.t("rule.day", day=rule["day"])
    week = int(str(rule["week"]))
    return ctx.t(
        "rule.weekday",
        weekday=ctx.t(WEEKDAYS[int(str(rule["weekday"]))]),
        week=ctx.t("rule.last_week") if week == -1 else ctx.t("rule.nth_week", n=week),
    )


WEEKDAYS = [
    N_("weekday.0"),
    N_("weekday.1"),
    N_("weekday.2"),
    N_("weekday.3"),
    N_("weekday.4"),
    N_("weekday.5"),
    N_("weekday.6"),
]


def _local_start(ctx: Context, day: str, at: str) -> datetime:
    hour, minute = (int(part) for part in at.split(":"))
    local = datetime.combine(datetime.fromisoformat(day).date(), time(hour, minute))
    return local.replace(tzinfo=ctx.settings.tz)


@schedule.step("confirm")
async def confirm(ctx: Context, answer: Answer) -> None:
    data = dict(ctx.data)
    ctx.finish()
    if answer.key != "save":
        ctx.say(ctx.t("cancel.done"))
        return
    unit = await ctx.uow.units.get(data["unit"])
    assert unit is not None and unit.id is not None and ctx.person is not None
    if data["mode"] == "once":
        meeting = Meeting(
            unit_id=unit.id,
            occurrence=f"once-{secrets.token_hex(4)}",
            starts_at=_local_start(ctx, data["date"], data["time"]),
            place=data.get("place"),
            online_url=data.get("url"),
            theme=data.get("theme"),
            created_at=ctx.now,
        )
        ctx.uow.session.add(meeting)
        await ctx.uow.session.flush()
        ctx.audit("meeting.created", "meeting", meeting.id, unit=unit.code)
        ctx.say(ctx.t("schedule.saved_once", meeting=describe(ctx, meeting)))
        return
    series = await ctx.uow.meetings.replace_series(
        MeetingSeries(
            unit_id=unit.id,
            rule=data["rule"],
            every_months=3 if data["mode"] == "quarterly" else 1,
            local_time=data["time"],
            place=data.get("place"),
            online_url=data.get("url"),
            theme=data.get("theme"),
            approved_by=data.get("approved"),
            created_by_person_id=ctx.person.id,
            created_at=ctx.now,
        )
    )
    await ctx.uow.meetings.drop_future_of_inactive(unit.id, ctx.now)
    await materialize(ctx.uow, series, ctx.now, ctx.settings.tz)
    ctx.audit("meeting.series_set", "unit", unit.id, rule=data["rule"], time=data["time"])
    upcoming = await ctx.uow.meetings.upcoming(unit.id, ctx.now, limit=3)
    ctx.say(
        ctx.t(
            "schedule.saved_series",
            meetings="\n".join(f"• {when(ctx, m)}" for m in upcoming) or "-",
        )
    )


@schedule.step("pick")
async def pick(ctx: Context, answer: Answer) -> None:
    meeting = await ctx.uow.meetings.get(int(answer.key or 0))
    if meeting is None or meeting.unit_id != ctx.data["unit"]:
        ctx.finish()
        ctx.say(ctx.t("button.stale"))
        return
    ctx.ask(
        schedule("change"),
        describe(ctx, meeting),
        [
            ("move", ctx.t("schedule.move")),
            ("cancel_meeting", ctx.t("schedule.cancel_meeting")),
            ("close", ctx.t("common.close")),
        ],
        data={"meeting": meeting.id},
    )


@schedule.step("change")
async def change(ctx: Context, answer: Answer) -> None:
    if answer.key == "move":
        ctx.ask(schedule("date"), ctx.t("schedule.ask_new_date"), data={"move": True})
    elif answer.key == "cancel_meeting":
        meeting = await ctx.uow.meetings.get(ctx.data["meeting"])
        assert meeting is not None
        meeting.status = MeetingStatus.CANCELLED
        meeting.version += 1
        ctx.uow.session.add(meeting)
        await ctx.uow.session.flush()
        await tell_attendees(
            ctx.uow,
            meeting,
            N_("meeting.cancelled_notice"),
            now=ctx.now,
            tag="cancelled",
            tz_when=when(ctx, meeting),
            skip_person=ctx.person_id,
        )
        ctx.audit("meeting.cancelled", "meeting", meeting.id)
        ctx.finish()
        ctx.say(ctx.t("schedule.cancelled", when=when(ctx, meeting)))
    else:
        ctx.finish()
        await show_menu(ctx)


async def _apply_move(ctx: Context, at: str) -> None:
    meeting = await ctx.uow.meetings.get(ctx.data["meeting"])
    assert meeting is not None
    new_start = _local_start(ctx, ctx.data["date"], at)
    if new_start <= ctx.now:
        ctx.ask(
            schedule("date"), ctx.t("schedule.past_date") + "\n" + ctx.t("schedule.ask_new_date")
        )
        return
    old = when(ctx, meeting)
    meeting.starts_at = new_start
    meeting.version += 1  # reminders for the new time are new outbox rows
    ctx.uow.session.add(meeting)
    await ctx.uow.session.flush()
    await tell_attendees(
        ctx.uow,
        meeting,
        N_("meeting.moved_notice"),
        now=ctx.now,
        tag="moved",
        tz_when=when(ctx, meeting),
        skip_person=ctx.person_id,
    )
    ctx.audit("meeting.moved", "meeting", meeting.id, old=old)
    ctx.finish()
    ctx.say(ctx.t("schedule.moved", old=old, new=when(ctx, meeting)))
