"""Turn a Zalo update (from getUpdates or a webhook) into an :class:`Incoming`.

A Zalo update looks like::

    {"event_name": "message.text.received",
     "message": {"message_id": "...", "date": 1750316131602, "text": "Xin chào",
                 "from": {"id": "...", "display_name": "Lan", "is_bot": false},
                 "chat": {"id": "...", "chat_type": "PRIVATE"}}}

possibly wrapped as ``{"ok": true, "result": {...}}``. Zalo has no buttons, so the
callback fields of :class:`Incoming` are never set; nor can a Zalo user share a
location, so only a photo (its URL, ``photo``) can serve as evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.messages import Channel, ChatKind, Incoming

__all__ = ["parse_update"]

log = logging.getLogger(__name__)

TEXT_EVENT = "message.text.received"
IMAGE_EVENT = "message.image.received"
MESSAGE_EVENT_PREFIX = "message."


def _mapping(value: object) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _id(value: object) -> str | None:
    """A non-empty id as a string; Zalo sends strings, numbers are tolerated."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _unwrap(body: object) -> Mapping[str, Any] | None:
    """The update itself, whether or not it came in an ``ok``/``result`` envelope."""
    update = _mapping(body)
    if update is not None and "result" in update and "message" not in update:
        if update.get("ok") is False:
            return None
        update = _mapping(update["result"])
    return update


def parse_update(body: object, *, received_at: datetime) -> Incoming | None:
    """The :class:`Incoming` for a Zalo message update, or None for anything else.

    Text messages carry ``text``; images, stickers and any other message kind set
    ``has_media`` (an image keeps its caption as ``text``). Updates that are not
    messages, lack an id, or come from a bot give None. Never raises on bad input.
    """
    update = _unwrap(body)
    if update is None:
        log.debug("zalo: ignoring a body that is not an update")
        return None
    event = update.get("event_name")
    message = _mapping(update.get("message"))
    is_message_event = event is None or (
        isinstance(event, str) and event.startswith(MESSAGE_EVENT_PREFIX)
    )
    if message is None or not is_message_event:
        log.debug("zalo: ignoring event %r", event)
        return None
    sender = _mapping(message.get("from")) or {}
    chat = _mapping(message.get("chat")) or {}
    message_id = _id(message.get("message_id"))
    user_id = _id(sender.get("id"))
    chat_id = _id(chat.get("id"))
    if message_id is None or user_id is None or chat_id is None:
        log.debug("zalo: ignoring %r without message, sender or chat id", event)
        return None
    if sender.get("is_bot") is True:
        log.debug("zalo: ignoring a message from a bot")
        return None

    photo_ref = None
    if event == TEXT_EVENT or (event is None and _text(message.get("text"))):
        text, has_media = _text(message.get("text")), False
    elif event == IMAGE_EVENT:
        text, has_media = _text(message.get("caption")), True
        # Zalo gives the photo's URL: kept as the reference, never downloaded.
        photo_ref = _text(message.get("photo")) or _text(message.get("photo_url"))
    else:  # stickers, "unsupported" and any message kind added later
        text, has_media = None, True

    chat_type = chat.get("chat_type")
    is_group = isinstance(chat_type, str) and chat_type.upper() == "GROUP"
    return Incoming(
        channel=Channel.ZALO,
        update_key=message_id,
        chat_id=chat_id,
        user_id=user_id,
        received_at=received_at,
        chat_kind=ChatKind.GROUP if is_group else ChatKind.PRIVATE,
        text=text,
        display_name=_text(sender.get("display_name")) or _text(sender.get("name")),
        has_media=has_media,
        photo_ref=photo_ref,
    )
