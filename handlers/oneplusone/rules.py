""" "1+1" rules, free of I/O: what counts, targets, who is behind, which year is evaluated.

A recruit counts towards its member's target once the young person has taken part
(or joined) *and* is known to be real: they answered the referral link themselves
(agreeing, or declining and leaving only a count), or the branch secretary confirmed
it. A member's word alone is "waiting for confirmation". The same young person is
one count a year, whoever else recorded them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from storage.models import RecruitConsent, RecruitStage

#: Stages that fulfil "1+1": the young person took part in an activity, or joined.
COUNTING_STAGES = frozenset({RecruitStage.TOOK_PART, RecruitStage.JOINED})
#: The young person answered the link themselves (a withdrawal came after a yes).
ANSWERED = frozenset({RecruitConsent.CONFIRMED, RecruitConsent.DECLINED, RecruitConsent.WITHDRAWN})
#: The code still waits for the young person: meanwhile the secretary can make it count.
#: (A lapsed record has lost its name: nobody could tell whom they would confirm.)
UNANSWERED = frozenset({RecruitConsent.PENDING})
#: Never counted: the young person is already counted through another member.
NOT_COUNTED = frozenset({RecruitConsent.DUPLICATE})
#: The member's words about the young person are kept only while the link waits.
KEEPS_NAME = frozenset({RecruitConsent.PENDING, RecruitConsent.CONFIRMED})
#: The evaluation of a year opens on 1 November and stays open until the end of March.
EVALUATION_OPENS = (11, 1)
EVALUATION_LATE_UNTIL_MONTH = 3


def verified(consent: str, secretary_confirmed: bool) -> bool:
    """The young person is known to be real: they answered, or the secretary confirmed."""
    if consent in NOT_COUNTED:
        return False
    return consent in ANSWERED or secretary_confirmed


def counts(stage: str, consent: str, secretary_confirmed: bool) -> bool:
    """Whether a recruit counts towards its member's target."""
    return stage in COUNTING_STAGES and verified(consent, secretary_confirmed)


def awaits_secretary(stage: str, consent: str, secretary_confirmed: bool) -> bool:
    """The member says the young person took part, and only the secretary can make it count."""
    return stage in COUNTING_STAGES and not secretary_confirmed and consent in UNANSWERED


def branch_target(members: int, per_member: int) -> int:
    """A branch's target follows its member count."""
    return max(0, members) * max(1, per_member)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where one member stands in a year."""

    counted: int
    target: int

    @property
    def reached(self) -> bool:
        return self.counted >= self.target

    @property
    def missing(self) -> int:
        return max(0, self.target - self.counted)


def member_progress(counted: int, per_member: int) -> Progress:
    return Progress(counted=max(0, counted), target=max(1, per_member))


def behind(progress: Iterable[tuple[int, Progress]]) -> list[int]:
    """The members (ids) who have not reached their target: the only ones reminded."""
    return [person_id for person_id, p in progress if not p.reached]


def reminder_due(today: date, day: int, grace_days: int = 2) -> bool:
    """Is ``today`` a reminder day: the month's ``day``, or just after it (the bot was down)?"""
    return day <= today.day <= day + grace_days


def evaluation_year(today: date) -> int | None:
    """The year a branch may evaluate on ``today``: this one from 1 November, last year's
    until the end of March; None in between (too early to close a year)."""
    if (today.month, today.day) >= EVALUATION_OPENS:
        return today.year
    if today.month <= EVALUATION_LATE_UNTIL_MONTH:
        return today.year - 1
    return None


def carried_out(counted: int) -> bool:
    """A branch carried "1+1" out in a year when at least one recruit counted."""
    return counted > 0


def share(part: int, whole: int) -> float:
    """``part / whole`` as a fraction (0 when there is nothing to divide)."""
    return part / whole if whole else 0.0
