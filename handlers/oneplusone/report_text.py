""" "1+1" reports as short texts for a phone; the Excel file has everything.

The roll-up starts with the sentence the unions paste into their reports ("x% chi đoàn
thực hiện (a/b), N thanh niên tham gia, …; k/m đoàn viên đạt chỉ tiêu"), then one line
per unit under it, slowest first. The branch report follows the branch's four steps,
then who has and who has not, then the young people by name (or "anonymous"). Long
lists stop at a screenful with "… và N nữa".
"""

from __future__ import annotations

from bot.formatting import dmy
from bot.i18n import N_, Translator
from handlers.fieldvisits.report_text import percent
from handlers.oneplusone.common import CONSENTS, stage_label
from handlers.oneplusone.plan import GRADES
from handlers.oneplusone.report_build import (
    BranchLine,
    Figures,
    GroupLine,
    MemberLine,
    RecruitLine,
    Report,
)
from storage.models import RecruitConsent

GROUPS_SHOWN = 15
MEMBERS_SHOWN = 30
RECRUITS_SHOWN = 10


def target_label(report: Report) -> str:
    """The per-member target: "1", or "1–2" where units set their own."""
    low, high = report.targets[0], report.targets[-1]
    return str(low) if low == high else f"{low}–{high}"


def consent_label(line: RecruitLine, t: Translator) -> str:
    """The young person's answer, and whether the branch confirmed the record."""
    record = line.record
    consent = record.consent
    words = t(CONSENTS[RecruitConsent(consent)]) if consent in set(RecruitConsent) else consent
    if record.verified_at is not None:
        return words + t("r11.verified_mark")
    return words + (t("r11.awaits_secretary_mark") if line.awaits_secretary else "")


def grade_label(branch: BranchLine, t: Translator) -> str:
    """The evaluation's grade, "evaluated" without one, or "not yet"."""
    if branch.grade in GRADES:
        return t(GRADES[branch.grade])
    if branch.evaluated_on is not None:
        return t("r11report.evaluated")
    return t("r11report.not_yet")


def title(report: Report, t: Translator) -> str:
    return t("r11report.title", unit=report.unit_name, year=report.year, date=dmy(report.as_of))


def totals_line(figures: Figures, t: Translator) -> str:
    """ "x% chi đoàn thực hiện (a/b), N thanh niên tham gia, J vào Đoàn, H vào Hội; k/m …"."""
    return t(
        "r11report.totals",
        share=percent(figures.carried_out, figures.branches),
        done=figures.carried_out,
        branches=figures.branches,
        took_part=figures.took_part,
        union=figures.joined_union,
        federation=figures.joined_federation,
        reached=figures.reached,
        members=figures.members,
    )


def report_text(report: Report, t: Translator) -> str:
    """The report sent in chat: the branch report or the roll-up."""
    if report.named:
        return branch_text(report, t)
    return rollup_text(report, t)


def _more(lines: list[str], total: int, shown: int, t: Translator) -> list[str]:
    if total > shown:
        lines.append(t("r11report.and_more", n=total - shown))
    return lines


# --- the roll-up ----------------------------------------------------------------------


def rollup_text(report: Report, t: Translator) -> str:
    """Counts only: units and numbers, never a member's or a young person's name."""
    total = report.totals
    lines = [title(report, t)]
    if not total.branches:
        lines.append(t("r11report.no_branches", unit=report.unit_name))
        return "\n".join(lines)
    lines.append(totals_line(total, t))
    lines.append(t("r11report.target_line", target=target_label(report)))
    lines.append(
        t(
            "r11report.plans_line",
            planned=total.planned,
            branches=total.branches,
            evaluated=total.evaluated,
            reached=total.reached_target,
        )
    )
    lines.append(_waiting(total, t))
    groups = report.slowest_first()
    if groups:
        lines += ["", t("r11report.groups_head")]
        lines += [_group(g, t) for g in groups[:GROUPS_SHOWN]]
        _more(lines, len(groups), GROUPS_SHOWN, t)
    return "\n".join(lines)


def _waiting(figures: Figures, t: Translator) -> str:
    return t(
        "r11report.waiting_line",
        young=figures.waiting_young,
        secretary=figures.waiting_secretary,
        declined=figures.declined,
    )


def group_name(group: GroupLine, t: Translator) -> str:
    return t("r11report.group_own", unit=group.name) if group.own else group.name


def _group(group: GroupLine, t: Translator) -> str:
    f = group.figures
    return t(
        "r11report.group_item",
        unit=group_name(group, t),
        done=f.carried_out,
        branches=f.branches,
        took_part=f.took_part,
        reached=f.reached,
        members=f.members,
    )


# --- the branch report ----------------------------------------------------------------


def branch_text(report: Report, t: Translator) -> str:
    """The branch's four steps, its numbers, who has and who has not, the young people."""
    [branch] = report.branches
    f = branch.figures
    surveyed = branch.surveyed
    lines = [
        title(report, t),
        t(
            "r11report.step_survey",
            value=t("r11report.not_yet")
            if surveyed is None
            else t("r11report.surveyed", n=surveyed),
        ),
        t(
            "r11report.step_plan",
            value=t("r11report.not_yet")
            if branch.planned_on is None
            else t("r11report.planned_on", date=dmy(branch.planned_on)),
        ),
        t("r11report.step_carry", n=f.took_part),
        t("r11report.step_evaluate", value=grade_label(branch, t)),
        "",
        t(
            "r11report.numbers",
            recorded=f.recorded,
            took_part=f.took_part,
            union=f.joined_union,
            federation=f.joined_federation,
        ),
        _waiting(f, t),
        t(
            "r11report.members_reached",
            reached=f.reached,
            members=f.members,
            target=branch.per_member,
        ),
    ]
    lines += ["", *_member_lines(report.members or (), t)]
    lines += ["", *_recruit_lines(report.recruits or (), t)]
    return "\n".join(lines)


def _member_lines(members: tuple[MemberLine, ...], t: Translator) -> list[str]:
    if not members:
        return [t("r11report.no_members")]
    lines = [t("r11report.who_head")]
    for m in members[:MEMBERS_SHOWN]:
        key = N_("r11report.member_done") if m.progress.reached else N_("r11report.member_behind")
        note = t("r11report.not_on_bot") if m.invited else ""
        p = m.progress
        lines.append(t(key, name=m.name, counted=p.counted, target=p.target, note=note))
    return _more(lines, len(members), MEMBERS_SHOWN, t)


def _recruit_lines(recruits: tuple[RecruitLine, ...], t: Translator) -> list[str]:
    if not recruits:
        return [t("r11report.no_recruits")]
    lines = [t("r11report.recruits_head", n=len(recruits))]
    for r in recruits[:RECRUITS_SHOWN]:
        line = t(
            "r11.recruit_line",
            mark="✅" if r.counts else "⏳",
            name=r.name or t("r11.anonymous"),
            activity=r.record.activity or "-",
            date=dmy(r.record.activity_on),
            stage=stage_label(t, r.record),
            status=consent_label(r, t),
        )
        lines.append(line + (t("r11report.by", member=r.member) if r.member else ""))
    return _more(lines, len(recruits), RECRUITS_SHOWN, t)
