"""Pure poll rules: what a poll may hold, how a deadline is read, when nudges fall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from handlers.polls.spec import PollSpec, QuestionSpec, parse_deadline
from scheduler.polls import nudge_times
from storage.models import Poll, QuestionKind

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 on 01/12/2026 in Vietnam


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("15/12", "2026-12-15 23:59"),
        ("15/12/2026 17:00", "2026-12-15 17:00"),
        ("17h 15/12", "2026-12-15 17:00"),
        ("15/12 5 giờ chiều", "2026-12-15 17:00"),
        ("sau 7 ngày", "2026-12-08 23:59"),
        ("trong 2 tuần", "2026-12-15 23:59"),
        ("ngày mai", "2026-12-02 23:59"),
        ("10/01", "2027-01-10 23:59"),  # already passed this year: next year
    ],
)
def test_deadline_as_typed(typed: str, local: str) -> None:
    found = parse_deadline(typed, NOW, TZ)
    assert found is not None and found.astimezone(TZ).strftime("%Y-%m-%d %H:%M") == local


@pytest.mark.parametrize("typed", ["32/13", "ngày mai nữa", "", "hôm kia", "15/12 25:00"])
def test_deadline_nonsense_is_refused(typed: str) -> None:
    assert parse_deadline(typed, NOW, TZ) is None


def spec(**kw: object) -> PollSpec:
    base: dict[str, object] = {
        "title": "Khảo sát",
        "unit": "AP",
        "closes_at": NOW + timedelta(days=3),
        "questions": [QuestionSpec(text="Câu?", options=["A", "B"])],
    }
    base.update(kw)
    return PollSpec(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "question",
    [
        {"text": "Câu?", "options": ["A"]},  # a single option is no choice
        {"text": "Câu?", "options": ["A", "a"]},  # the same option twice
        {"text": "Câu?", "options": [str(i) for i in range(11)]},
        {"text": "Câu?", "kind": "scale", "options": ["A", "B"]},
        {"text": "Câu?", "kind": "text", "other": True},
        {"text": "   ", "options": ["A", "B"]},
        {"text": "x" * 501, "options": ["A", "B"]},
    ],
)
def test_malformed_questions_are_refused(question: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        QuestionSpec(**question)  # type: ignore[arg-type]


def test_a_poll_needs_questions_a_title_and_a_later_deadline() -> None:
    with pytest.raises(ValidationError):
        spec(questions=[])
    with pytest.raises(ValidationError):
        spec(title="")
    with pytest.raises(ValidationError):
        spec(opens_at=NOW + timedelta(days=4))
    with pytest.raises(ValidationError):
        spec(closes_at=datetime(2026, 12, 4, 10, 0))  # no time zone
    assert spec().questions[0].kind == QuestionKind.SINGLE


def poll(days: float) -> Poll:
    return Poll(unit_id=1, title="x", opens_at=NOW, closes_at=NOW + timedelta(days=days))


def test_nudges_halfway_and_a_day_before() -> None:
    stages = nudge_times(poll(6), ["50%", "24h"])
    assert stages == [("50%", NOW + timedelta(days=3)), ("24h", NOW + timedelta(days=5))]


@given(
    st.floats(min_value=0.05, max_value=90),
    st.lists(st.sampled_from(["25%", "50%", "75%", "24h", "6h"])),
)
def test_nudges_fall_in_order_and_never_after_the_deadline(days: float, stages: list[str]) -> None:
    found = nudge_times(poll(days), stages)
    times = [at for _, at in found]
    assert times == sorted(times) and all(at < NOW + timedelta(days=days) for at in times)
