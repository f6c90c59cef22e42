"""Tests for bot.zalo.updates.parse_update."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messages import Channel, ChatKind, Incoming
from bot.zalo.updates import parse_update

NOW = datetime(2025, 3, 26, 8, 30, tzinfo=UTC)


def update(event: str = "message.text.received", **message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_name": event,
        "message": {
            "message_id": "msg-1",
            "date": 1750316131602,
            "from": {"id": "user-1", "display_name": "Nguyễn Văn An", "is_bot": False},
            "chat": {"id": "chat-1", "chat_type": "PRIVATE"},
        },
    }
    body["message"].update(message)
    return body


def test_text_message() -> None:
    incoming = parse_update(update(text="Xin chào"), received_at=NOW)
    assert incoming == Incoming(
        channel=Channel.ZALO,
        update_key="msg-1",
        chat_id="chat-1",
        user_id="user-1",
        received_at=NOW,
        chat_kind=ChatKind.PRIVATE,
        text="Xin chào",
        display_name="Nguyễn Văn An",
    )
    assert incoming.callback_data is None
    assert incoming.callback_id is None
    assert incoming.message_ref is None


def test_wrapped_body_is_unwrapped() -> None:
    body = {"ok": True, "result": update(text="1")}
    incoming = parse_update(body, received_at=NOW)
    assert incoming is not None
    assert incoming.text == "1"
    assert incoming.update_key == "msg-1"


def test_group_chat() -> None:
    body = update(text="hi")
    body["message"]["chat"] = {"id": "group-9", "chat_type": "GROUP"}
    incoming = parse_update(body, received_at=NOW)
    assert incoming is not None
    assert incoming.chat_kind is ChatKind.GROUP
    assert incoming.chat_id == "group-9"
    assert incoming.user_key == "zalo:group-9:user-1"


def test_name_is_used_when_display_name_is_missing() -> None:
    body = update(text="hi")
    body["message"]["from"] = {"id": "user-1", "name": "Lan"}
    incoming = parse_update(body, received_at=NOW)
    assert incoming is not None
    assert incoming.display_name == "Lan"


def test_numeric_ids_become_strings() -> None:
    body = update(text="hi", message_id=42)
    body["message"]["from"]["id"] = 7
    body["message"]["chat"]["id"] = 8
    incoming = parse_update(body, received_at=NOW)
    assert incoming is not None
    assert (incoming.update_key, incoming.user_id, incoming.chat_id) == ("42", "7", "8")


def test_image_keeps_its_caption() -> None:
    body = update("message.image.received", photo="https://x/a.jpg", caption="Ảnh sinh hoạt")
    incoming = parse_update(body, received_at=NOW)
    assert incoming is not None
    assert incoming.has_media
    assert incoming.text == "Ảnh sinh hoạt"


def test_image_without_caption() -> None:
    incoming = parse_update(
        update("message.image.received", photo="https://x/a.jpg"), received_at=NOW
    )
    assert incoming is not None
    assert incoming.has_media
    assert incoming.text is None


@pytest.mark.parametrize(
    "event",
    ["message.sticker.received", "message.unsupported.received", "message.location.received"],
)
def test_other_messages_are_media(event: str) -> None:
    incoming = parse_update(update(event, sticker="abc", text="ignored"), received_at=NOW)
    assert incoming is not None
    assert incoming.has_media
    assert incoming.text is None


def test_round_trips_through_json() -> None:
    incoming = parse_update(update(text="hi"), received_at=NOW)
    assert incoming is not None
    assert Incoming.from_json(incoming.to_json()) == incoming


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    body = copy.deepcopy(update(text="hi"))
    target = body
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return body


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "message",
        42,
        {},
        {"ok": False, "error_code": 408, "description": "timeout"},
        {"ok": True, "result": None},
        {"ok": True, "result": []},
        {"ok": True, "result": {}},
        {"event_name": "message.text.received"},
        {"event_name": "message.text.received", "message": "hi"},
        {"event_name": "bot.added", "message": update()["message"]},
        {"event_name": 5, "message": update()["message"]},
        _without(("message", "message_id")),
        _without(("message", "from")),
        _without(("message", "from", "id")),
        _without(("message", "chat")),
        _without(("message", "chat", "id")),
        update(text="hi", message_id=""),
        update(text="hi", message_id=True),
        update(text="hi", message_id={"id": 1}),
    ],
)
def test_junk_gives_none(body: Any) -> None:
    assert parse_update(body, received_at=NOW) is None


def test_messages_from_bots_are_ignored() -> None:
    body = update(text="hi")
    body["message"]["from"]["is_bot"] = True
    assert parse_update(body, received_at=NOW) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "ok",
                    "result",
                    "event_name",
                    "message",
                    "from",
                    "chat",
                    "id",
                    "message_id",
                    "text",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_never_raises_on_arbitrary_json(body: Any) -> None:
    result = parse_update(body, received_at=NOW)
    assert result is None or isinstance(result, Incoming)


@given(json_values)
def test_never_raises_on_mangled_messages(junk: Any) -> None:
    for key in ("from", "chat", "text", "caption", "message_id"):
        body = update("message.image.received")
        body["message"][key] = junk
        result = parse_update(body, received_at=NOW)
        assert result is None or isinstance(result, Incoming)
