"""The "1+2" report as a short text for a phone: the union's sentence, then the details.

The first line is the sentence the committees already write in their reports; then
the shares reaching the target, trips, late trip reports and, by name, the cadres
furthest behind pace (at most :data:`BEHIND_SHOWN`). Everything else is in the Excel file.
"""

from __future__ import annotations

from bot.formatting import dmy
from bot.i18n import N_, Translator
from handlers.fieldvisits.report_build import VisitReport, share
from scheduler.field_visits import ExemptionReason

BEHIND_SHOWN = 10
LATE_SHOWN = 5
REASONS = {
    ExemptionReason.ACCOUNTING_OR_CLERICAL: N_("freport.reason_accounting_or_clerical"),
    ExemptionReason.LONG_SERVICE: N_("freport.reason_long_service"),
    ExemptionReason.SERIOUS_ILLNESS: N_("freport.reason_serious_illness"),
    ExemptionReason.PARTY_WORK: N_("freport.reason_party_work"),
    ExemptionReason.OTHER: N_("freport.reason_other"),
}


def percent(part: int, whole: int) -> str:
    value = share(part, whole)
    return "—" if value is None else f"{value:.0%}"


def reason_label(reason: str, t: Translator) -> str:
    key = REASONS.get(ExemptionReason(reason)) if reason in set(ExemptionReason) else None
    return t(key or "freport.reason_other")


def sentence(report: VisitReport, t: Translator) -> str:
    """ "As of 15/11/2023, 17/24 cadres … went; 100% of them reached 60 days; 7 did not go (…)"."""
    on = dmy(report.as_of)
    if not report.total:
        return t("freport.no_cadres", date=on, unit=report.unit_name)
    parts = [
        t("freport.exempt_part", n=n, reason=reason_label(reason, t))
        for reason, n in sorted(report.exempt_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if report.not_going:
        parts.append(t("freport.not_going_part", n=report.not_going))
    rest = t("freport.did_not_go", n=report.did_not_go, parts="; ".join(parts)) if parts else ""
    if not report.went:
        return t("freport.sentence_none_went", date=on, total=report.total, rest=rest)
    return t(
        "freport.sentence",
        date=on,
        went=report.went,
        total=report.total,
        reached=percent(report.reached, report.went),
        target=report.rules.target_days,
        rest=rest,
    )


def report_text(report: VisitReport, t: Translator) -> str:
    """The summary sent in chat."""
    lines = [t("freport.title", unit=report.unit_name), sentence(report, t)]
    if not report.total:
        return "\n".join(lines)
    rules = report.rules
    lines.append(
        t(
            "freport.rules_line",
            first=dmy(report.window[0]),
            last=dmy(report.window[1]),
            target=rules.target_days,
            trips=rules.trips_required,
        )
    )
    measured = len(report.measured)
    lines.append("")
    lines.append(
        t(
            "freport.reached_line",
            target=rules.target_days,
            n=report.reached,
            of_went=percent(report.reached, report.went),
            of_measured=percent(report.reached, measured),
            measured=measured,
        )
    )
    lines.append(
        t(
            "freport.trips_line",
            done=report.trips_done,
            enough=report.enough_trips,
            measured=measured,
            required=rules.trips_required,
        )
    )
    lines += _late_lines(report, t)
    lines += _behind_lines(report, t)
    return "\n".join(lines)


def _late_lines(report: VisitReport, t: Translator) -> list[str]:
    late = report.late_reports
    if not late:
        return [t("freport.late_none")]
    lines = [t("freport.late_head", n=len(late))]
    for r in late[:LATE_SHOWN]:
        if r.filed_on is None:
            lines.append(t("freport.late_item", name=r.name, theme=r.theme, due=dmy(r.due)))
        else:  # filed, but after the deadline: late on the record
            lines.append(
                t(
                    "freport.late_item_filed",
                    name=r.name,
                    theme=r.theme,
                    due=dmy(r.due),
                    filed=dmy(r.filed_on),
                )
            )
    if len(late) > LATE_SHOWN:
        lines.append(t("freport.and_more", n=len(late) - LATE_SHOWN))
    return lines


def _behind_lines(report: VisitReport, t: Translator) -> list[str]:
    behind = report.behind()
    if not behind:
        return [t("freport.behind_none")] if report.measured else []
    expected = behind[0].pace.expected_by_now  # one window and target: the same for all
    lines = [t("freport.behind_head", n=len(behind), expected=expected)]
    lines += [
        t(
            "freport.behind_item",
            name=c.name,
            unit=c.unit_name,
            days=c.summary.days,
            target=report.rules.target_days,
        )
        for c in behind[:BEHIND_SHOWN]
    ]
    if len(behind) > BEHIND_SHOWN:
        lines.append(t("freport.and_more", n=len(behind) - BEHIND_SHOWN))
    return lines
