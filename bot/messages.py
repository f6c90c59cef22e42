"""Channel-neutral message types: what adapters produce and what flows answer with.

Adapters in ``bot.telegram`` and ``bot.zalo`` turn platform updates into one
:class:`Incoming` and render :class:`Outgoing` actions; flows in ``handlers``
only ever see these types, never an aiogram or httpx object.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any


class Channel(enum.StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"


class ChatKind(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did: sent text, pressed a button, sent a photo."""

    channel: Channel
    update_key: str  # platform's id for de-duplication (update_id, message_id)
    chat_id: str
    user_id: str
    received_at: datetime
    chat_kind: ChatKind = ChatKind.PRIVATE
    text: str | None = None
    # A pressed button: the raw callback data and the platform's ids for answering it
    callback_data: str | None = None
    callback_id: str | None = None
    message_ref: str | None = None  # the bot message the button was on
    message_text: str | None = None  # its text, so it can be edited to show the pick
    display_name: str | None = None
    language_code: str | None = None
    has_media: bool = False  # a photo, sticker or anything we cannot read as text
    # Evidence a flow may keep (minh chứng): the platform's own reference to a photo
    # (a Telegram file_id, a Zalo photo URL) and a shared location (Telegram only).
    photo_ref: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def user_key(self) -> str:
        """Serialisation key: events of one person in one chat are handled in order."""
        return f"{self.channel}:{self.chat_id}:{self.user_id}"

    @property
    def has_evidence(self) -> bool:
        """A photo or a location came with this message."""
        return self.photo_ref is not None or self.latitude is not None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Incoming:
        # Payloads stored before a field existed load with its default; a field a
        # newer process added is left out, so a rolling upgrade never jams the inbox.
        known = {f.name for f in fields(cls)}
        data = {key: value for key, value in data.items() if key in known}
        data["channel"] = Channel(data["channel"])
        data["chat_kind"] = ChatKind(data["chat_kind"])
        data["received_at"] = datetime.fromisoformat(data["received_at"])
        return cls(**data)


ACTION_PREFIX = "!"


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a question. ``key`` is stable and short; ``label`` is shown.

    A key starting with ``!`` is an *action* ("!rsvp:12:yes"): it does not answer an
    open question but names what to do, so it works on proactive messages (a
    reminder) whatever conversation the person is in. Zalo shows no buttons, so
    messages with actions also say in words how to answer.
    """

    key: str
    label: str

    @property
    def is_action(self) -> bool:
        return self.key.startswith(ACTION_PREFIX)


#: What an :class:`Outgoing` may carry besides its text (``media_kind``).
PHOTO = "photo"  # an image shown in the chat (a results chart, PNG)
DOCUMENT = "document"  # a file to download (an Excel export)

#: Filled by the sender right before delivery; never stored in the outbox.
_TRANSIENT = ("media_data", "media_url", "media_expires_at")


@dataclass(slots=True)
class Outgoing:
    """One action towards a chat, already translated.

    kind:
      ``send``   a new message (text, optional choices, optional image or file)
      ``edit``   replace the text of the bot message ``message_ref``; its buttons become
                 ``choices`` (none: the buttons go). Channels that cannot edit send
                 ``text`` as a new message, or skip it when ``skip_if_no_edit``
      ``answer`` acknowledge a pressed button (``callback_id``) with a short notice

    Media: ``media_token`` names a row of the ``media`` table (``uow.media.put``) and
    ``media_kind`` says how to show it (:data:`PHOTO` or :data:`DOCUMENT`), ``media_name``
    is the file name people see. ``text`` is the caption. If the media row is gone or
    expired when the message goes out, the text goes alone.

    ``private`` marks a message that reveals an anonymous answer ("you picked X"): once
    sent, its stored payload is reduced to :meth:`scrubbed_json`. ``locale`` is the
    language of ``text``, for the few words an adapter adds itself (Zalo's download
    link); empty means the deployment's default language.
    """

    kind: str
    chat_id: str
    text: str = ""
    choices: list[Choice] = field(default_factory=list)
    nonce: str | None = None  # the question's nonce: pressed buttons carry it back
    message_ref: str | None = None
    callback_id: str | None = None
    photo_url: str | None = None  # a photo already on the web (sent by URL)
    skip_if_no_edit: bool = True
    hint: str = ""  # how to answer by text, shown under a numbered menu
    media_token: str | None = None
    media_kind: str = ""
    media_name: str = ""
    private: bool = False
    locale: str = ""
    # Transient (see _TRANSIENT): the media's bytes, its public link and the link's end.
    media_data: bytes | None = field(default=None, compare=False, repr=False)
    media_url: str | None = field(default=None, compare=False, repr=False)
    media_expires_at: datetime | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _TRANSIENT}
        data["choices"] = [[c.key, c.label] for c in self.choices]
        return data

    def scrubbed_json(self) -> dict[str, Any]:
        """What is kept of a sent private message: no text, no choices, no media."""
        return {"kind": self.kind, "chat_id": self.chat_id, "private": True, "scrubbed": True}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outgoing:
        # Unknown keys (a scrubbed payload's marker, a field a newer version added) are
        # left out rather than failing: a row must never become unsendable by an upgrade.
        known = {f.name for f in fields(cls)} - set(_TRANSIENT)
        values = {key: value for key, value in data.items() if key in known}
        values["choices"] = [Choice(k, label) for k, label in data.get("choices", [])]
        return cls(**values)
