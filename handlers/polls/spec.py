"""What a poll is made of, checked once: from a conversation's draft or a YAML file.

The same :class:`PollSpec` is built by the creation flow and by
``doanbot polls create FILE.yaml``, so both obey the same limits.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Self

from pydantic import BaseModel, Field, field_validator, model_validator

from scheduler.recurrence import parse_date, parse_time
from storage.models import QuestionKind, Role

TITLE_MAX = 200
INTRO_MAX = 1000
QUESTION_MAX = 500
OPTION_MAX = 100
OPTIONS_MIN, OPTIONS_MAX = 2, 10
QUESTIONS_MAX = 30
TEXT_ANSWER_MAX = 1000
SCALE = range(1, 6)  # a 1–5 scale
#: Roles asked when a poll names none: everyone with a role in the audience units.
ALL_ROLES: tuple[str, ...] = ()


class QuestionSpec(BaseModel):
    text: str = Field(min_length=1, max_length=QUESTION_MAX)
    kind: QuestionKind = QuestionKind.SINGLE
    options: list[str] = Field(default_factory=list)
    other: bool = False  # an "other (write it)" option
    required: bool = True

    @field_validator("text")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("empty")
        return value

    @field_validator("options")
    @classmethod
    def _clean_options(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(str(o).split()) for o in value]
        if any(not o for o in cleaned):
            raise ValueError("an option is empty")
        if any(len(o) > OPTION_MAX for o in cleaned):
            raise ValueError(f"an option is longer than {OPTION_MAX} characters")
        if len({o.casefold() for o in cleaned}) != len(cleaned):
            raise ValueError("two options are the same")
        return cleaned

    @model_validator(mode="after")
    def _options_fit_kind(self) -> Self:
        if self.kind in (QuestionKind.SINGLE, QuestionKind.MULTI):
            if not OPTIONS_MIN <= len(self.options) <= OPTIONS_MAX:
                raise ValueError(f"a choice question needs {OPTIONS_MIN} to {OPTIONS_MAX} options")
        elif self.options:
            raise ValueError(f"a {self.kind.value} question has no options")
        elif self.other:
            raise ValueError(f"a {self.kind.value} question has no 'other' option")
        return self


class PollSpec(BaseModel):
    """A poll before it is stored. Times are aware datetimes (UTC or local)."""

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    intro: str | None = Field(default=None, max_length=INTRO_MAX)
    unit: str = Field(min_length=1, max_length=64)  # the owning unit's code
    # Audience: these units (codes, each in the owning unit's subtree) and all under them.
    units: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)  # empty: every role
    opens_at: datetime | None = None  # None: at once
    closes_at: datetime
    anonymous: bool = True
    show_results: bool = False  # respondents get the results after it closes
    questions: list[QuestionSpec] = Field(min_length=1, max_length=QUESTIONS_MAX)

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("empty")
        return value

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("a time needs its time zone")
        return value

    @model_validator(mode="after")
    def _times_in_order(self) -> Self:
        if self.opens_at is not None and self.closes_at <= self.opens_at:
            raise ValueError("the deadline must come after the opening time")
        return self


_AFTER_DAYS = re.compile(r"^(?:sau |trong )?(\d{1,3}) ?(ngay|tuan)(?: nua)?$")


def parse_deadline(text: str, now: datetime, tz: tzinfo) -> datetime | None:
    """A poll's deadline as typed: "15/12", "15/12/2026 17:00", "17h 15/12", "sau 7 ngày".

    A date alone means the end of that day (23:59 local). Returns None when the text is
    not a date, and the caller refuses a deadline that is not in the future.
    """
    from bot.matching import fold

    folded = fold(text)
    today = now.astimezone(tz).date()
    relative = _AFTER_DAYS.match(folded)
    if relative:
        amount = int(relative[1]) * (7 if relative[2] == "tuan" else 1)
        return _at(today + timedelta(days=amount), time(23, 59), tz)
    words = text.split()
    for cut in range(len(words), 0, -1):
        # The date and the time may come in either order: "15/12 17:00", "17h ngày 15/12".
        for day_words, time_words in ((words[:cut], words[cut:]), (words[-cut:], words[:-cut])):
            day = parse_date(" ".join(day_words), today)
            if day is None:
                continue
            if not time_words:
                return _at(day, time(23, 59), tz)
            hhmm = parse_time(" ".join(time_words))
            if hhmm is not None:
                return _at(day, time.fromisoformat(hhmm), tz)
    return None


def _at(day: date, wall: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz)
