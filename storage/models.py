"""Tables. Times are UTC; a unit tree uses a materialised path ("/1/4/9/")."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, path_type, utcnow


class Role(enum.StrEnum):
    MEMBER = "member"
    SECRETARY = "secretary"
    DEPUTY = "deputy"
    CADRE = "cadre"
    STANDING = "standing"
    INSPECTOR = "inspector"
    ADMIN = "admin"


LEADER_ROLES = frozenset({Role.SECRETARY, Role.DEPUTY, Role.STANDING, Role.ADMIN})


class PersonStatus(enum.StrEnum):
    INVITED = "invited"  # imported from a roster; has not joined or agreed yet
    ACTIVE = "active"
    DELETED = "deleted"  # withdrew consent; personal data erased, the row is a tombstone
    # A young person who confirmed a "1+1" referral: not a member, no roles; they can
    # see and delete what is kept about them, and join the union later.
    GUEST = "guest"


def _fk(target: str, *, ondelete: str = "CASCADE", nullable: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete=ondelete), index=True, nullable=nullable
        ),
    )


def _time(*, nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


class Unit(SQLModel, table=True):
    """A union unit (province, grassroots union, branch...) in a tree of any depth."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=255)
    kind: str = Field(max_length=64)
    parent_id: int | None = _fk("unit.id", ondelete="RESTRICT", nullable=True)
    path: str = Field(default="", sa_type=path_type(), index=True)
    depth: int = 0
    # Per-unit overrides of defaults (quiet hours, reminder offsets...); see bot.unit_settings.
    settings: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = _time()


class Person(SQLModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str | None = Field(default=None, max_length=100)
    locale: str = Field(default="vi", max_length=8)
    status: str = Field(default=PersonStatus.ACTIVE, max_length=16)
    mute_reminders: bool = False  # non-urgent reminders are not sent
    created_at: datetime = _time()
    deleted_at: datetime | None = _time(nullable=True)


class Membership(SQLModel, table=True):
    """A person's role in a unit."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("person_id", "unit_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    unit_id: int = _fk("unit.id", ondelete="RESTRICT")
    role: str = Field(max_length=16)
    created_at: datetime = _time()


class ChannelIdentity(SQLModel, table=True):
    """A person's account on one channel, and whether we can still reach it."""

    __tablename__ = "channel_identity"
    __table_args__ = (UniqueConstraint("channel", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    channel: str = Field(max_length=16)
    platform_user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    reachable: bool = True
    blocked_at: datetime | None = _time(nullable=True)
    last_seen_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()


class Invite(SQLModel, table=True):
    """An invitation to a unit and role; personal when ``person_id`` is set (roster import)."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    unit_id: int = _fk("unit.id", ondelete="RESTRICT")
    role: str = Field(max_length=16)
    person_id: int | None = _fk("person.id", nullable=True)
    created_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    max_uses: int | None = None
    uses: int = 0
    created_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = _time(nullable=True)


class Consent(SQLModel, table=True):
    """Proof of consent: which text version, when, and when withdrawn. Kept after deletion."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    purpose: str = Field(max_length=32)
    text_version: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    given_at: datetime = _time()
    withdrawn_at: datetime | None = _time(nullable=True)


class LinkCode(SQLModel, table=True):
    """A one-time code that links a second channel to an existing person."""

    __tablename__ = "link_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    person_id: int = _fk("person.id")
    created_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = _time(nullable=True)


class Conversation(SQLModel, table=True):
    """Where one person is in a flow, keyed by (channel, chat, user)."""

    __tablename__ = "conversation"

    channel: str = Field(primary_key=True, max_length=16)
    chat_id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=64)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # The open question: its choices and a nonce that pressed buttons must carry back.
    choices: list[list[str]] = Field(default_factory=list, sa_type=JSON)
    nonce: str = Field(default="", max_length=16)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = _time()


class InboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class InboxEvent(SQLModel, table=True):
    """Every update received, stored before it is acknowledged to the platform.

    The unique (channel, update_key) makes a repeated update a no-op; a pending row
    left by a crash is processed after restart. The payload is cleared once processed.
    """

    __tablename__ = "inbox_event"
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        Index("ix_inbox_pending", "status", "user_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    update_key: str = Field(max_length=64)
    user_key: str = Field(max_length=160)
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    status: str = Field(default=InboxStatus.PENDING, max_length=16)
    attempts: int = 0
    received_at: datetime = _time(index=True)
    processed_at: datetime | None = _time(nullable=True)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up after retries; an operator can retry it
    UNREACHABLE = "unreachable"  # the person blocked the bot


class OutboxMessage(SQLModel, table=True):
    """An action towards a chat, written in the same transaction as the decision to send it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "not_before", "id"),
        Index("ix_outbox_chat", "status", "channel", "chat_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    channel: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    priority: int = 0  # 0 = interactive reply, higher = bulk
    category: str = Field(default="reply", max_length=16)  # reply, reminder, broadcast, nudge
    person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    payload: dict[str, Any] = Field(sa_type=JSON)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    not_before: datetime = _time()
    # A sender's claim on the row; another sender may take it once the lease has run out.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _time(nullable=True)
    created_at: datetime = _time()
    sent_at: datetime | None = _time(nullable=True)
    last_error: str | None = Field(default=None, max_length=500)


class AuditEntry(SQLModel, table=True):
    """Who changed what, and when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _time(index=True)
    actor_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    actor: str = Field(default="bot", max_length=32)  # "bot", "cli", "system"
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class MeetingSeries(SQLModel, table=True):
    """A branch's regular meeting: monthly on a day or a weekday, or quarterly."""

    __tablename__ = "meeting_series"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = _fk("unit.id", ondelete="RESTRICT")
    # {"kind": "day", "day": 25} or {"kind": "weekday", "weekday": 5, "week": -1}
    rule: dict[str, Any] = Field(sa_type=JSON)
    every_months: int = 1  # 3 = quarterly (needs the upper level's approval)
    local_time: str = Field(max_length=5)  # "19:30" in the bot's time zone
    place: str | None = Field(default=None, max_length=255)
    online_url: str | None = Field(default=None, max_length=500)
    theme: str | None = Field(default=None, max_length=255)
    approved_by: str | None = Field(default=None, max_length=255)
    created_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    active: bool = True
    created_at: datetime = _time()


class Meeting(SQLModel, table=True):
    """One meeting (an occurrence of a series, or a one-off)."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("series_id", "occurrence"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = _fk("unit.id", ondelete="RESTRICT")
    series_id: int | None = _fk("meeting_series.id", ondelete="SET NULL", nullable=True)
    occurrence: str = Field(max_length=16)  # "2026-12" for a series, "once-<n>" for one-offs
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    place: str | None = Field(default=None, max_length=255)
    online_url: str | None = Field(default=None, max_length=500)
    theme: str | None = Field(default=None, max_length=255)
    status: str = Field(default=MeetingStatus.SCHEDULED, max_length=16)
    version: int = 1  # bumped on a move, so reminders for the new time are new rows
    checkin_code: str | None = Field(default=None, max_length=8)
    checkin_opened_at: datetime | None = _time(nullable=True)
    checkin_closed_at: datetime | None = _time(nullable=True)
    # Reminder kinds already queued ("v2:member_24h"), so a tick does not redo the work.
    reminders_done: list[str] = Field(default_factory=list, sa_type=JSON)
    summary_sent_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()


class Rsvp(SQLModel, table=True):
    __tablename__ = "meeting_rsvp"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = _fk("meeting.id")
    person_id: int = _fk("person.id")
    answer: str = Field(max_length=8)  # yes, no, maybe
    reason: str | None = Field(default=None, max_length=255)
    answered_at: datetime = _time()


class Attendance(SQLModel, table=True):
    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = _fk("meeting.id")
    person_id: int = _fk("person.id")
    method: str = Field(max_length=16)  # button, code, marked
    marked_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    at: datetime = _time()


#: A result cell of an anonymous poll with fewer answers than this is never shown alone.
MIN_CELL = 5


class PollStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # created; sent out when ``opens_at`` comes
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class QuestionKind(enum.StrEnum):
    SINGLE = "single"  # one option
    MULTI = "multi"  # any number of options
    SCALE = "scale"  # 1 to 5
    TEXT = "text"  # free text


class Poll(SQLModel, table=True):
    """A youth sentiment poll sent to the people of some units under ``unit_id``.

    ``answer_salt`` keys the hash that keeps anonymous answers one per person; it is
    wiped when the poll closes, after which no answer can be tied to anyone, even
    by the holder of the database and the server's secret.
    """

    __tablename__ = "poll"
    __table_args__ = (Index("ix_poll_status_times", "status", "opens_at", "closes_at"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = _fk("unit.id", ondelete="RESTRICT")
    title: str = Field(max_length=200)
    intro: str | None = Field(default=None, max_length=1000)
    anonymous: bool = True
    results_to_respondents: bool = False
    # Who is asked: these units and everything under them (ids), and these roles.
    audience_units: list[int] = Field(default_factory=list, sa_type=JSON)
    audience_roles: list[str] = Field(default_factory=list, sa_type=JSON)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default=PollStatus.SCHEDULED, max_length=16)
    answer_salt: str | None = Field(default=None, max_length=64)
    # Nudges already queued ("half", "last_day"), so a tick does not redo them.
    nudges_done: list[str] = Field(default_factory=list, sa_type=JSON)
    created_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    created_at: datetime = _time()
    opened_at: datetime | None = _time(nullable=True)
    closed_at: datetime | None = _time(nullable=True)


class PollQuestion(SQLModel, table=True):
    __tablename__ = "poll_question"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = _fk("poll.id")
    position: int  # 1, 2, 3...
    kind: str = Field(max_length=16)
    text: str = Field(max_length=500)
    # Option labels; an answer stores the option's number (1-based). A scale has none.
    options: list[str] = Field(default_factory=list, sa_type=JSON)
    # An "other (write it)" option, numbered len(options) + 1, whose words go in the text.
    allow_other: bool = False
    required: bool = True


class PollRecipient(SQLModel, table=True):
    """Someone the poll was sent to. Says whether they answered, never what."""

    __tablename__ = "poll_recipient"
    __table_args__ = (Index("ix_poll_recipient_answered", "poll_id", "answered"),)

    poll_id: int = Field(
        sa_column=Column(Integer, ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True)
    )
    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    )
    unit_id: int = Field(sa_column=Column(Integer, nullable=False))
    answered: bool = False
    # No reachable account when it was sent (or since): counted, not retried.
    unreachable: bool = False
    nudges: int = 0


class PollResponse(SQLModel, table=True):
    """One person's answer to one question: exactly one per (question, respondent).

    ``respondent`` is ``"p<person id>"`` in a named poll and a keyed hash in an
    anonymous one, where ``person_id`` and ``answered_at`` stay empty and no serial
    id or time gives away the order in which people answered.
    """

    __tablename__ = "poll_response"
    # Respondents per question and unit for the results, from the index alone.
    __table_args__ = (Index("ix_poll_response_count", "poll_id", "question_id", "unit_id"),)

    question_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("poll_question.id", ondelete="CASCADE"), primary_key=True
        )
    )
    respondent: str = Field(primary_key=True, max_length=64)
    poll_id: int = Field(sa_column=Column(Integer, nullable=False))
    unit_id: int = Field(sa_column=Column(Integer, nullable=False))
    person_id: int | None = _fk("person.id", nullable=True)
    text: str | None = Field(default=None, max_length=1000)  # free text, or "other"
    answered_at: datetime | None = _time(nullable=True)


class PollChoice(SQLModel, table=True):
    """An option picked in a response (several for a multiple-choice question)."""

    __tablename__ = "poll_choice"
    __table_args__ = (
        ForeignKeyConstraint(
            ["question_id", "respondent"],
            ["poll_response.question_id", "poll_response.respondent"],
            ondelete="CASCADE",
        ),
        Index("ix_poll_choice_count", "question_id", "unit_id", "option"),
    )

    question_id: int = Field(primary_key=True)
    respondent: str = Field(primary_key=True, max_length=64)
    option: int = Field(primary_key=True)
    unit_id: int


class Media(SQLModel, table=True):
    """An image or file the bot made (a results chart, an Excel export), served at an
    expiring link. The token is the secret of the link: whoever has it may download."""

    __tablename__ = "media"

    token: str = Field(primary_key=True, max_length=64)
    content_type: str = Field(default="image/png", max_length=100)
    name: str = Field(default="", max_length=200)  # file name shown and downloaded
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class VisitKind(enum.StrEnum):
    """What a grassroots day was spent on ("1+2")."""

    TRIP = "trip"  # a day of a thematic trip (đợt chuyên đề)
    ACTIVITY = "activity"  # co-organising an activity at the grassroots
    INSPECTION = "inspection"  # inspection or supervision under a BTV/UBKT plan
    MEETING = "meeting"  # attending a lower-level BCH or chi đoàn meeting
    TRAINING = "training"
    OTHER = "other"


class VisitStatus(enum.StrEnum):
    COUNTED = "counted"
    PENDING = "pending"  # logged late or corrected late: waits for approval
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # replaced by a correction, or taken back by the cadre


class FieldCadre(SQLModel, table=True):
    """A full-time cadre subject to "1+2", as marked by the standing committee."""

    __tablename__ = "field_cadre"

    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    )
    # Where the cadre works (a province union's office); its province's rules apply.
    unit_id: int = _fk("unit.id", ondelete="RESTRICT")
    active: bool = True
    added_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    added_at: datetime = _time()


class VisitExemption(SQLModel, table=True):
    """A cadre excused from "1+2" for a period, with the reason the committee recorded."""

    __tablename__ = "visit_exemption"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    reason: str = Field(max_length=32)  # scheduler.field_visits.ExemptionReason
    note: str | None = Field(default=None, max_length=255)
    starts_on: date
    ends_on: date | None = None
    decided_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    created_at: datetime = _time()


class ThematicTrip(SQLModel, table=True):
    """A thematic trip (đợt chuyên đề) of 5–7 days; its report is due 10 days after."""

    __tablename__ = "thematic_trip"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    unit_id: int | None = _fk("unit.id", ondelete="SET NULL", nullable=True)  # where
    theme: str = Field(max_length=255)
    place: str | None = Field(default=None, max_length=255)
    starts_on: date
    ends_on: date | None = None  # None while under way
    report: str | None = Field(default=None, max_length=4000)
    report_filed_at: datetime | None = _time(nullable=True)
    # Report reminders already queued ("due", "overdue-3"), so a tick does not redo them.
    reminders_done: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = _time()


class FieldVisit(SQLModel, table=True):
    """One entry a cadre logged: which unit, which days, what kind, what was done."""

    __tablename__ = "field_visit"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    unit_id: int | None = _fk("unit.id", ondelete="SET NULL", nullable=True)  # visited
    kind: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=500)
    trip_id: int | None = _fk("thematic_trip.id", ondelete="SET NULL", nullable=True)
    status: str = Field(default=VisitStatus.COUNTED, max_length=16, index=True)
    first_day: date
    last_day: date
    # Evidence (minh chứng): the platform's reference to a photo, and a place.
    photo_ref: str | None = Field(default=None, max_length=500)
    latitude: float | None = None
    longitude: float | None = None
    replaces_id: int | None = _fk("field_visit.id", ondelete="SET NULL", nullable=True)
    logged_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    logged_at: datetime = _time()
    decided_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    decided_at: datetime | None = _time(nullable=True)


class FieldVisitDay(SQLModel, table=True):
    """The calendar days of an entry; a cadre's count is their distinct counted days."""

    __tablename__ = "field_visit_day"
    __table_args__ = (Index("ix_field_visit_day_person", "person_id", "day"),)

    visit_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("field_visit.id", ondelete="CASCADE"), primary_key=True
        )
    )
    day: date = Field(primary_key=True)
    person_id: int = Field(sa_column=Column(Integer, nullable=False))


class PlanStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"  # sent back to the cadre with a reason


class VisitPlan(SQLModel, table=True):
    """A cadre's quarterly plan (đăng ký đi cơ sở hàng quý), approved by the standing committee."""

    __tablename__ = "visit_plan"
    __table_args__ = (UniqueConstraint("person_id", "year", "quarter"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = _fk("person.id")
    year: int
    quarter: int  # 1–4
    planned_days: int
    planned_trips: int = 0
    note: str | None = Field(default=None, max_length=500)
    status: str = Field(default=PlanStatus.SUBMITTED, max_length=16)
    # Bumped on every resubmission: a decision button carries it, so an old button
    # cannot approve figures the committee never saw.
    revision: int = 1
    reason: str | None = Field(default=None, max_length=255)  # why it was returned
    decided_by_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    decided_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()


class RecruitStage(enum.StrEnum):
    """How far a young person brought in under "1+1" has come."""

    CONTACTED = "contacted"
    TOOK_PART = "took_part"  # took part in an activity of the union or the federation
    JOINED = "joined"  # joined the union (Đoàn) or the youth federation (Hội)


class JoinedAs(enum.StrEnum):
    UNION = "union"
    FEDERATION = "federation"


class RecruitConsent(enum.StrEnum):
    """What the young person said to the referral link, and what is therefore kept."""

    PENDING = "pending"  # link not answered yet: only the member's own words, until it expires
    CONFIRMED = "confirmed"  # agreed: their name and account are kept, linked to the member
    DECLINED = "declined"  # said no: nothing about them, an anonymous count
    LAPSED = "lapsed"  # the link expired unanswered: the member's words wiped, a count
    WITHDRAWN = "withdrawn"  # agreed, then removed their data: a count
    DUPLICATE = "duplicate"  # already confirmed for another member this year: not counted


class Recruit(SQLModel, table=True):
    """A young person a member brought in ("1+1"), as little about them as will do.

    Until the young person answers the referral link (``code``) only what the member
    typed is kept, and only until the link expires; a decline or a lapse wipes it and
    leaves a count. A confirmed recruit is linked to their own account
    (``recruit_person_id``), once a year: one young person is one count.
    """

    __tablename__ = "recruit"
    __table_args__ = (
        UniqueConstraint("recruit_person_id", "year"),
        Index("ix_recruit_unit_year", "unit_id", "year"),
        Index("ix_recruit_member_year", "member_id", "year"),
        Index("ix_recruit_pending", "consent", "code_expires_at"),
        Index("ix_recruit_stage_day", "stage", "activity_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    unit_id: int = Field(
        sa_column=Column(Integer, ForeignKey("unit.id", ondelete="RESTRICT"), nullable=False)
    )
    year: int  # of the activity: the "1+1" year it counts in
    name: str | None = Field(default=None, max_length=100)
    relation: str | None = Field(default=None, max_length=16)  # friend, relative, ...
    activity: str | None = Field(default=None, max_length=200)
    activity_on: date
    stage: str = Field(default=RecruitStage.CONTACTED, max_length=16)
    joined_as: str | None = Field(default=None, max_length=16)
    consent: str = Field(default=RecruitConsent.PENDING, max_length=16)
    recruit_person_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    code: str | None = Field(default=None, max_length=16, unique=True)
    code_expires_at: datetime | None = _time(nullable=True)
    answered_at: datetime | None = _time(nullable=True)
    # The secretary confirmed the stage: counts even when the young person never answered.
    verified_by_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    verified_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()
    updated_at: datetime = _time()


class RecruitPlan(SQLModel, table=True):
    """A branch's "1+1" year in four steps: survey, plan, carry out (the bot counts), evaluate."""

    __tablename__ = "recruit_plan"
    __table_args__ = (UniqueConstraint("unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(
        sa_column=Column(Integer, ForeignKey("unit.id", ondelete="RESTRICT"), nullable=False)
    )
    year: int
    surveyed: int | None = None  # young people found in the area who are not in the union
    survey_note: str | None = Field(default=None, max_length=500)
    activities: str | None = Field(default=None, max_length=500)  # what the branch will do
    planned_by_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    planned_at: datetime | None = _time(nullable=True)
    grade: str | None = Field(default=None, max_length=16)  # excellent, good, done, not_done
    evaluation: str | None = Field(default=None, max_length=1000)
    # The numbers as the bot counted them when the year was evaluated.
    figures: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    evaluated_by_id: int | None = _fk("person.id", ondelete="SET NULL", nullable=True)
    evaluated_at: datetime | None = _time(nullable=True)
