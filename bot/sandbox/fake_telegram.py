"""An offline fake of the Telegram Bot API for one bot token.

The real bot (aiogram) talks to :class:`FakeTelegram` over HTTP exactly as it
talks to ``api.telegram.org``: ``/bot{token}/{method}`` with query, JSON,
url-encoded or multipart parameters, answers ``{"ok": true, "result": ...}`` or
an HTTP error status with ``{"ok": false, "error_code": ..., "description": ...}``.
Updates reach the bot through long polling (``getUpdates``) or a webhook.

Tests drive the simulated people through the Python control API
(:meth:`FakeTelegram.user_says`, :meth:`FakeTelegram.press`, ...) and read
what the bot did from per-chat transcripts. The same controls are served as
JSON under ``/_sandbox/{action}`` for ``make demo`` and curl.

Run it standalone with ``python -m bot.sandbox.fake_telegram --token 42:TEST``.
"""

from __future__ import annotations

import html
import json
import logging
import mimetypes
import random
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Literal

import aiohttp
from aiohttp import web

from bot.sandbox._common import (
    Call,
    ClientGone,
    FakeBotApi,
    Json,
    command_line,
    dumps,
    ok,
    serve_forever,
)
from bot.sandbox.ratelimit import KeyedBuckets, TokenBucket, acquire_all, retry_after

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_QUERY_TTL = 15 * 60.0
MAX_UPLOAD = 50 * 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

#: Update types Telegram leaves out unless they are asked for explicitly.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)

Sender = Literal["bot", "user"]


class TelegramApiError(Exception):
    """An ``ok: false`` answer with its HTTP status."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> Json:
        """The JSON body Telegram sends for this error."""
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class NoSuchButton(LookupError):
    """:meth:`FakeTelegram.press` found no matching callback button."""


def _bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {description}")


@dataclass
class Message:
    """One message in a chat transcript, sent by the bot or by a simulated person."""

    chat_id: int
    message_id: int
    sender: Sender
    date: int
    kind: str = "text"  # text | photo | document | sticker
    text: str | None = None
    caption: str | None = None
    parse_mode: str | None = None
    reply_markup: Json | None = None
    photo: str | None = None  # uploaded file name or URL
    document: str | None = None  # file name
    file_size: int | None = None
    from_id: int | None = None  # the person who wrote it (user messages)
    edits: list[str] = field(default_factory=list)  # previous texts, oldest first
    edit_date: int | None = None
    deleted: bool = False
    entities: list[Json] = field(default_factory=list)
    media: Json = field(default_factory=dict, repr=False)  # API-shaped photo/document/sticker

    @property
    def inline_buttons(self) -> list[Json]:
        """All inline keyboard buttons, row by row."""
        keyboard = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in keyboard for button in row]

    @property
    def buttons(self) -> list[list[str]]:
        """The visible texts of the inline keyboard, as rows."""
        keyboard = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[str(button.get("text", "")) for button in row] for row in keyboard]

    def to_dict(self) -> Json:
        """A JSON-ready copy for the control API."""
        data = asdict(self)
        data.pop("media")
        data["buttons"] = self.buttons
        return data


@dataclass
class TelegramLimits:
    """Rate limits applied when the fake runs with ``limits=True``.

    Rates are messages per second; bursts are token bucket capacities.
    """

    global_rate: float = 30.0
    global_burst: float = 30.0
    private_rate: float = 1.0
    private_burst: float = 3.0
    group_rate: float = 20.0 / 60.0
    group_burst: float = 5.0


@dataclass
class WebhookAttempt:
    """One POST of an update to the webhook and how it went."""

    update_id: int
    url: str
    status: int | None  # HTTP status, None on connection error
    error: str | None
    secret_token: str | None


@dataclass
class _User:
    id: int
    first_name: str
    last_name: str | None = None
    language_code: str | None = None

    def to_api(self) -> Json:
        data: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class _Chat:
    id: int
    type: str  # "private" | "group"
    title: str | None = None
    user: _User | None = None
    messages: list[Message] = field(default_factory=list)
    next_message_id: int = 1

    def to_api(self) -> Json:
        data: Json = {"id": self.id, "type": self.type}
        if self.user is not None:
            data["first_name"] = self.user.first_name
            if self.user.last_name:
                data["last_name"] = self.user.last_name
        else:
            data["title"] = self.title or str(self.id)
        return data


@dataclass(eq=False)
class _Pending:
    update: Json
    redelivery: bool = False
    handed_out: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    name: str
    size: int | None


@dataclass
class _Call(Call):
    """One API call: its parameters, uploaded files and (if over HTTP) the request."""

    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # field -> (name, size)


# --- parameter parsing --------------------------------------------------------------------


async def _read_multipart(reader: aiohttp.MultipartReader, call: _Call) -> None:
    async for part in reader:
        if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
            continue
        data = await part.read(decode=True)
        if part.filename is not None:
            call.files[part.name] = (part.filename, len(data))
        else:
            call.params[part.name] = data.decode(part.get_charset("utf-8"))


async def _read_call(request: web.Request) -> _Call:
    call = _Call(params=dict(request.query), files={}, request=request)
    if request.method != "POST" or not request.can_read_body:
        return call
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise _bad("can't parse JSON object") from exc
        if not isinstance(body, dict):
            raise _bad("JSON object expected")
        call.params.update(body)
    elif ctype == "multipart/form-data":
        await _read_multipart(await request.multipart(), call)
    elif ctype == "application/x-www-form-urlencoded":
        form = await request.post()
        call.params.update({key: str(value) for key, value in form.items()})
    return call


def _opt_str(params: Json, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise _bad(f"wrong type of parameter {name}")
    return str(value)


def _req_str(params: Json, name: str, empty: str | None = None) -> str:
    value = _opt_str(params, name)
    if value is None or not value.strip():
        raise _bad(empty or f"{name} is empty")
    return value


def _opt_int(params: Json, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _bad(f"wrong type of parameter {name}")
    try:
        return int(value)
    except ValueError:
        raise _bad(f"wrong parameter {name} specified") from None


def _opt_bool(params: Json, name: str) -> bool:
    value = params.get(name)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1"}


def _opt_json(params: Json, name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise _bad(f"can't parse {name} JSON object") from None
    return value


def _visible_text(text: str, parse_mode: str | None) -> str:
    """What a person would see: HTML tags do not count towards the length limits."""
    if (parse_mode or "").lower() == "html":
        return html.unescape(re.sub(r"<[^>]*>", "", text))
    return text


def _check_text(text: str, parse_mode: str | None, limit: int, what: str) -> None:
    visible = _visible_text(text, parse_mode)
    if not visible.strip():
        raise _bad(f"{what} is empty")
    if len(visible) > limit:
        raise _bad(f"{what} is too long")


def _inline_only(markup: Json | None) -> Json | None:
    """The part of a reply markup that Telegram stores on the message."""
    if markup and "inline_keyboard" in markup:
        return markup
    return None


def _validate_markup(markup: Any) -> Json | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return markup  # reply keyboard, remove_keyboard, force_reply: accepted as is
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _bad('can\'t parse inline keyboard button: field "inline_keyboard" must be an Array')
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise _bad("can't parse inline keyboard button: Text must be non-empty")
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode())
                if not 1 <= size <= CALLBACK_DATA_LIMIT:
                    raise _bad("BUTTON_DATA_INVALID")
            elif not BUTTON_ACTIONS.intersection(button):
                raise _bad(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
    return markup


def _command_entities(text: str) -> list[Json]:
    """A ``bot_command`` entity for a leading ``/command`` (offsets in UTF-16 units)."""
    if not text.startswith("/"):
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]


def _bot_id(token: str) -> int:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 7_000_000_001


def _scope_key(scope: Any) -> str:
    if not scope or (isinstance(scope, dict) and scope.get("type") == "default"):
        return "default"
    return json.dumps(scope, sort_keys=True)


ApiMethod = Callable[[_Call], Awaitable[Any]]


class FakeTelegram(FakeBotApi[int, Message]):
    """In-memory Telegram Bot API server for one bot, with a control API for tests.

    Private chat ids equal user ids; group chats have negative ids. Everything
    runs in the event loop of the test (or of ``make demo``).
    """

    secret_header = SECRET_HEADER
    client_max_size = MAX_UPLOAD
    int_args = frozenset(
        {"chat_id", "user_id", "group_id", "message_id", "update_id", "count", "since"}
    )
    webhook_status_error = "Wrong response from the webhook: {status} {reason}"
    webhook_connection_error = "Connection failed: {exc}"

    def __init__(
        self,
        token: str,
        *,
        limits: bool = False,
        rate_limits: TelegramLimits | None = None,
        username: str = "doanbot_sandbox_bot",
        first_name: str = "Đoàn Bot Sandbox",
        webhook_retry_delay: float = 1.0,
        webhook_timeout: float = 10.0,
        first_update_id: int | None = None,
    ) -> None:
        super().__init__(
            token,
            limits=limits,
            webhook_retry_delay=webhook_retry_delay,
            webhook_timeout=webhook_timeout,
        )
        self.username = username
        self.first_name = first_name
        self.bot_id = _bot_id(token)
        self.edits_accepted = 0  # a counter a benchmark can read

        #: callback query id -> text the bot answered with (None: answered without text)
        self.callback_answers: dict[str, str | None] = {}
        self.callback_alerts: set[str] = set()
        self.webhook_log: list[WebhookAttempt] = []

        cfg = rate_limits or TelegramLimits()
        self._global_bucket = TokenBucket(cfg.global_rate, cfg.global_burst)
        self._private_buckets: KeyedBuckets[int] = KeyedBuckets(cfg.private_rate, cfg.private_burst)
        self._group_buckets: KeyedBuckets[int] = KeyedBuckets(cfg.group_rate, cfg.group_burst)

        self._users: dict[int, _User] = {}
        self._chats: dict[int, _Chat] = {}
        self._files: dict[str, _File] = {}
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._open_callbacks: dict[str, float] = {}
        self._next_callback_id = random.randint(10**17, 9 * 10**17)

        self._next_update_id = first_update_id or random.randint(100_000, 900_000)
        self._history: dict[int, Json] = {}
        self._pending: list[_Pending] = []
        self._allowed_updates: list[str] | None = None
        self._webhook: _Webhook | None = None
        self._poller: object | None = None
        self._methods: dict[str, ApiMethod] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendchataction": self._send_chat_action,
            "sendphoto": partial(self._send_file, "photo"),
            "senddocument": partial(self._send_file, "document"),
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
        }

    # --- simulated people -------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """Make a private chat with ``user_id`` known without sending anything."""
        self._private_chat(user_id, first_name, last_name, language_code)

    def user_says(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """The user writes ``text`` in their private chat; return the update id.

        A new user is "An" with language "vi" unless told otherwise; profile
        arguments left out keep their earlier values. Writing to a bot one has
        blocked unblocks it, as in the Telegram apps.
        """
        chat = self._chat_of_active_user(user_id, first_name, last_name, language_code)
        return self._incoming(chat, user_id, kind="text", text=text)

    def user_sends_photo(self, user_id: int, *, caption: str | None = None) -> int:
        """The user sends a photo in their private chat; return the update id."""
        chat = self._chat_of_active_user(user_id)
        stored = self._store_file(f"photo_{secrets.token_hex(4)}.jpg", 120_000)
        media = {"photo": self._photo_sizes(stored)}
        return self._incoming(
            chat, user_id, kind="photo", caption=caption, photo=stored.name, media=media
        )

    def user_sends_sticker(self, user_id: int, *, emoji: str = "👍") -> int:
        """The user sends a sticker in their private chat; return the update id."""
        chat = self._chat_of_active_user(user_id)
        stored = self._store_file(f"sticker_{secrets.token_hex(4)}.webp", 24_000)
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return self._incoming(chat, user_id, kind="sticker", media={"sticker": sticker})

    def group_says(
        self,
        group_id: int,
        user_id: int,
        text: str,
        *,
        title: str | None = None,
        first_name: str | None = None,
    ) -> int:
        """``user_id`` writes ``text`` in the group ``group_id`` (< 0); return the update id."""
        if group_id >= 0:
            raise ValueError(f"group chat ids are negative, got {group_id}")
        chat = self._chats.get(group_id)
        if chat is None:
            chat = _Chat(id=group_id, type="group", title=title or "Chi đoàn Sandbox")
            self._chats[group_id] = chat
        elif title:
            chat.title = title
        self._user(user_id, first_name)
        return self._incoming(chat, user_id, kind="text", text=text)

    def press(
        self,
        user_id: int,
        *,
        button: str | int,
        message_id: int | None = None,
        chat_id: int | None = None,
    ) -> int:
        """The user presses an inline button; return the update id of the callback query.

        The message is ``message_id`` or else the newest bot message with an
        inline keyboard in ``chat_id`` (default: the user's private chat).
        ``button`` is the visible text or a 1-based index over all buttons.
        """
        chat = self._chat(user_id if chat_id is None else chat_id)
        if message_id is not None:
            message = self._bot_message(chat, message_id)
        else:
            keyed = [m for m in chat.messages if m.sender == "bot" and not m.deleted]
            keyed = [m for m in keyed if m.inline_buttons]
            if not keyed:
                raise NoSuchButton(f"no bot message with an inline keyboard in chat {chat.id}")
            message = keyed[-1]
        buttons = message.inline_buttons
        chosen: Json | None = None
        if isinstance(button, int) and not isinstance(button, bool):
            if 1 <= button <= len(buttons):
                chosen = buttons[button - 1]
        else:
            chosen = next((b for b in buttons if b.get("text") == button), None)
        if chosen is None:
            raise NoSuchButton(
                f"no button {button!r} on message #{message.message_id} in chat {chat.id}; "
                f"buttons: {message.buttons}"
            )
        if "callback_data" not in chosen:
            raise NoSuchButton(f"button {chosen.get('text')!r} is not a callback button: {chosen}")
        return self._callback_query(chat, user_id, message, str(chosen["callback_data"]))

    def press_data(
        self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None
    ) -> int:
        """Send a callback query with arbitrary ``data`` (a stale or forged button)."""
        chat = self._chat(user_id if chat_id is None else chat_id)
        return self._callback_query(chat, user_id, self._bot_message(chat, message_id), data)

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends to their chat fail with 403 until they come back."""
        self._private_chat(user_id)
        if user_id not in self._blocked:
            self._blocked.add(user_id)
            self._member_update(user_id, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        """The user unblocks the bot."""
        if user_id in self._blocked:
            self._blocked.discard(user_id)
            self._member_update(user_id, "kicked", "member")

    def redeliver(self, update_id: int) -> None:
        """Hand out an update again, even if the bot already confirmed it."""
        update = self._history.get(update_id)
        if update is None:
            raise LookupError(f"no update {update_id}")
        self._pending.append(_Pending(update, redelivery=True))
        self._notify()

    # --- reading what happened --------------------------------------------------------------

    def format_transcript(self, chat_id: int) -> str:
        """A readable transcript, one line per message."""
        lines = []
        for m in self.transcript(chat_id):
            body = m.text if m.text is not None else f"<{m.kind}: {m.photo or m.document or ''}>"
            if m.caption:
                body += f" {m.caption!r}"
            flags = "".join(
                [
                    f" [buttons: {m.buttons}]" if m.buttons else "",
                    f" (edited, was: {m.edits})" if m.edits else "",
                    " (deleted)" if m.deleted else "",
                ]
            )
            lines.append(f"#{m.message_id} {m.sender}: {body}{flags}")
        return "\n".join(lines) or "(empty)"

    def commands(self, language_code: str | None = None, scope: Json | None = None) -> list[Json]:
        """The command list set with setMyCommands for this scope and language."""
        return list(self._commands.get((_scope_key(scope), language_code or ""), []))

    def unanswered_callbacks(self) -> list[str]:
        """Ids of callback queries the bot has not answered yet."""
        return list(self._open_callbacks)

    @property
    def webhook_url(self) -> str:
        """The webhook URL set by the bot ("" while polling)."""
        return self._webhook.url if self._webhook else ""

    def stats(self) -> Json:
        """Counters for benchmarks."""
        return {**super().stats(), "edits_accepted": self.edits_accepted}

    # --- internals: people, chats and updates -----------------------------------------------

    def _user(self, user_id: int, first_name: str | None = None) -> _User:
        user = self._users.get(user_id)
        if user is None:
            user = _User(id=user_id, first_name=first_name or "An", language_code="vi")
            self._users[user_id] = user
        elif first_name:
            user.first_name = first_name
        return user

    def _private_chat(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> _Chat:
        if user_id <= 0:
            raise ValueError(f"user ids are positive, got {user_id}")
        user = self._user(user_id, first_name)
        if last_name is not None:
            user.last_name = last_name
        if language_code is not None:
            user.language_code = language_code
        chat = self._chats.get(user_id)
        if chat is None:
            chat = _Chat(id=user_id, type="private", user=user)
            self._chats[user_id] = chat
        return chat

    def _chat_of_active_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> _Chat:
        """The private chat of a user who is doing something: that unblocks the bot."""
        chat = self._private_chat(user_id, first_name, last_name, language_code)
        self.unblock(user_id)
        return chat

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            raise LookupError(f"no chat {chat_id}")
        return chat

    def _bot_message(self, chat: _Chat, message_id: int) -> Message:
        message = self._find(chat, message_id)
        if message is None or message.sender != "bot":
            raise LookupError(f"no bot message #{message_id} in chat {chat.id}")
        return message

    @staticmethod
    def _find(chat: _Chat, message_id: int) -> Message | None:
        for message in chat.messages:
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def _append(self, chat: _Chat, message: Message) -> Message:
        message.message_id = chat.next_message_id
        chat.next_message_id += 1
        chat.messages.append(message)
        self._touch()
        return message

    def _incoming(
        self,
        chat: _Chat,
        user_id: int,
        *,
        kind: str,
        text: str | None = None,
        caption: str | None = None,
        photo: str | None = None,
        media: Json | None = None,
    ) -> int:
        message = Message(
            chat_id=chat.id,
            message_id=0,
            sender="user",
            date=int(time.time()),
            kind=kind,
            text=text,
            caption=caption,
            photo=photo,
            from_id=user_id,
            entities=_command_entities(text or ""),
            media=media or {},
        )
        self._append(chat, message)
        return self._push_update("message", self._message_json(message))

    def _callback_query(self, chat: _Chat, user_id: int, message: Message, data: str) -> int:
        user = self._user(user_id)
        if chat.type == "private":
            self.unblock(user_id)  # using the bot again unblocks it
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self._open_callbacks[query_id] = time.monotonic()
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": self._message_json(message),
            "chat_instance": str(abs(hash((self.bot_id, chat.id))) % 10**18),
            "data": data,
        }
        return self._push_update("callback_query", query)

    def _member_update(self, user_id: int, old: str, new: str) -> None:
        user = self._user(user_id)
        bot = self._bot_user()

        def member(status: str) -> Json:
            return {
                "status": status,
                "user": bot,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        payload = {
            "chat": self._chat(user_id).to_api(),
            "from": user.to_api(),
            "date": int(time.time()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self._push_update("my_chat_member", payload)

    def _push_update(self, kind: str, payload: Json) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self._history[update_id] = update
        allowed = self._allowed_updates
        if (kind in allowed) if allowed else (kind not in OPT_IN_UPDATES):
            self._pending.append(_Pending(update))
        self._notify()
        return update_id

    # --- internals: API objects -------------------------------------------------------------

    def _bot_user(self) -> Json:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _message_json(self, message: Message) -> Json:
        chat = self._chat(message.chat_id)
        sender = (
            self._bot_user()
            if message.sender == "bot"
            else self._user(message.from_id or message.chat_id).to_api()
        )
        data: Json = {
            "message_id": message.message_id,
            "from": sender,
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.text is not None:
            data["text"] = message.text
        if message.entities:
            data["entities"] = message.entities
        if message.caption is not None:
            data["caption"] = message.caption
        data.update(message.media)
        markup = _inline_only(message.reply_markup)
        if markup:
            data["reply_markup"] = markup
        return data

    def _store_file(self, name: str, size: int | None) -> _File:
        stored = _File(
            file_id=f"AgAC{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{secrets.token_urlsafe(8)}",
            name=name,
            size=size,
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _photo_sizes(stored: _File) -> list[Json]:
        sizes = []
        for width, height, share in ((90, 51, 0.05), (1280, 720, 1.0)):
            size: Json = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": width,
                "height": height,
            }
            if stored.size is not None:
                size["file_size"] = max(1, int(stored.size * share))
            sizes.append(size)
        return sizes

    # --- internals: checks shared by the sending methods ------------------------------------

    def _target_chat(self, params: Json, *, check_blocked: bool = True) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise _bad("chat not found") from None
        chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad("chat not found")
        if check_blocked and chat_id in self._blocked:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    async def _admit(self, call: _Call, chat_id: int) -> None:
        """Rate limits, the artificial delay, and the hung-up check, in that order."""
        if self.limits:
            buckets = self._private_buckets if chat_id > 0 else self._group_buckets
            wait = acquire_all([self._global_bucket, buckets[chat_id]])
            if wait > 0:
                self.answers_429 += 1
                seconds = retry_after(wait)
                raise TelegramApiError(
                    429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
                )
        await self._hold(call, chat_id)

    def _record_send(self, chat: _Chat, message: Message) -> Json:
        self._append(chat, message)
        self._count_send(chat.id)
        return self._message_json(message)

    def _editable(self, chat: _Chat, params: Json) -> Message:
        message_id = _opt_int(params, "message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = self._find(chat, message_id)
        if message is None:
            raise _bad("message to edit not found")
        if message.sender != "bot":
            raise _bad("message can't be edited")
        return message

    def _input_file(self, call: _Call, name: str) -> _File:
        upload = call.files.get(name)
        if upload is None:
            value = _opt_str(call.params, name)
            if not value:
                raise _bad(f"there is no {name} in the request")
            if value.startswith("attach://"):
                upload = call.files.get(value.removeprefix("attach://"))
            elif value in self._files:
                return self._files[value]
            elif value.startswith(("http://", "https://")):
                return self._store_file(value, None)
            if upload is None:
                raise _bad("wrong file identifier/HTTP URL specified")
        return self._store_file(upload[0], upload[1])

    # --- API methods ------------------------------------------------------------------------

    async def _get_me(self, call: _Call) -> Json:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, call: _Call) -> list[Json]:
        if self._webhook is not None:
            raise TelegramApiError(409, WEBHOOK_CONFLICT)
        params = call.params
        offset = _opt_int(params, "offset")
        limit = min(max(_opt_int(params, "limit") or 100, 1), 100)
        timeout = max(_opt_int(params, "timeout") or 0, 0)
        allowed = _opt_json(params, "allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list):
                raise _bad("can't parse allowed_updates JSON object")
            self._allowed_updates = [str(kind) for kind in allowed] or None
        if offset is not None:
            self._confirm(offset)

        me = object()
        self._poller = me
        self._notify()  # an older long poll sees it was replaced
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._poller is not me:
                    raise TelegramApiError(409, POLL_CONFLICT)
                if self._webhook is not None:
                    raise TelegramApiError(409, WEBHOOK_CONFLICT)
                batch = self._poll_batch(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._closing or call.gone():
                    break
                await self._wait(min(remaining, 1.0))
        finally:
            if self._poller is me:
                self._poller = None
        for entry in batch:
            entry.handed_out = True
        return [entry.update for entry in batch]

    def _confirm(self, offset: int) -> None:
        """Forget updates below ``offset``; redeliveries once they were handed out."""
        if offset < 0:
            normal = [e for e in self._pending if not e.redelivery]
            survivors = set(map(id, normal[offset:]))
            self._pending = [e for e in self._pending if e.redelivery or id(e) in survivors]
            return

        def keep(entry: _Pending) -> bool:
            if entry.redelivery:
                return not (entry.handed_out and entry.update_id < offset)
            return entry.update_id >= offset

        self._pending = [entry for entry in self._pending if keep(entry)]

    def _poll_batch(self, limit: int) -> list[_Pending]:
        again = [e for e in self._pending if e.redelivery]
        fresh = [e for e in self._pending if not e.redelivery]
        return (again + fresh)[:limit]

    async def _send_message(self, call: _Call) -> Json:
        params = call.params
        chat = self._target_chat(params)
        text = _req_str(params, "text", "message text is empty")
        parse_mode = _opt_str(params, "parse_mode")
        _check_text(text, parse_mode, TEXT_LIMIT, "message text")
        markup = _validate_markup(_opt_json(params, "reply_markup"))
        await self._admit(call, chat.id)
        message = Message(
            chat_id=chat.id,
            message_id=0,
            sender="bot",
            date=int(time.time()),
            text=text,
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return self._record_send(chat, message)

    async def _send_file(self, kind: str, call: _Call) -> Json:
        params = call.params
        chat = self._target_chat(params)
        caption = _opt_str(params, "caption")
        parse_mode = _opt_str(params, "parse_mode")
        if caption and len(_visible_text(caption, parse_mode)) > CAPTION_LIMIT:
            raise _bad("message caption is too long")
        markup = _validate_markup(_opt_json(params, "reply_markup"))
        stored = self._input_file(call, kind)
        await self._admit(call, chat.id)
        message = Message(
            chat_id=chat.id,
            message_id=0,
            sender="bot",
            date=int(time.time()),
            kind=kind,
            caption=caption or None,
            parse_mode=parse_mode,
            reply_markup=markup,
            file_size=stored.size,
        )
        if kind == "photo":
            message.photo = stored.name
            message.media = {"photo": self._photo_sizes(stored)}
        else:
            file_name = stored.name.rsplit("/", 1)[-1] or "document"
            message.document = file_name
            document: Json = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_name": file_name,
                "mime_type": mimetypes.guess_type(file_name)[0] or "application/octet-stream",
            }
            if stored.size is not None:
                document["file_size"] = stored.size
            message.media = {"document": document}
        return self._record_send(chat, message)

    async def _edit_message_text(self, call: _Call) -> Json:
        params = call.params
        chat = self._target_chat(params)
        message = self._editable(chat, params)
        text = _req_str(params, "text", "message text is empty")
        parse_mode = _opt_str(params, "parse_mode")
        _check_text(text, parse_mode, TEXT_LIMIT, "message text")
        markup = _inline_only(_validate_markup(_opt_json(params, "reply_markup")))
        if message.kind != "text":
            raise _bad("there is no text in the message to edit")
        if text == message.text and markup == _inline_only(message.reply_markup):
            raise _bad(NOT_MODIFIED)
        await self._admit(call, chat.id)
        message.edits.append(message.text or "")
        message.text = text
        message.parse_mode = parse_mode
        message.reply_markup = markup
        message.edit_date = int(time.time())
        self.edits_accepted += 1
        self._touch()
        return self._message_json(message)

    async def _edit_message_reply_markup(self, call: _Call) -> Json:
        params = call.params
        chat = self._target_chat(params)
        message = self._editable(chat, params)
        markup = _inline_only(_validate_markup(_opt_json(params, "reply_markup")))
        if markup == _inline_only(message.reply_markup):
            raise _bad(NOT_MODIFIED)
        await self._admit(call, chat.id)
        message.reply_markup = markup
        message.edit_date = int(time.time())
        self.edits_accepted += 1
        self._touch()
        return self._message_json(message)

    async def _delete_message(self, call: _Call) -> bool:
        chat = self._target_chat(call.params, check_blocked=False)
        message_id = _opt_int(call.params, "message_id")
        message = self._find(chat, message_id) if message_id is not None else None
        if message is None:
            raise _bad("message to delete not found")
        message.deleted = True
        self._touch()
        return True

    async def _send_chat_action(self, call: _Call) -> bool:
        chat = self._target_chat(call.params)
        action = _req_str(call.params, "action")
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        self._notify()
        return True

    async def _answer_callback_query(self, call: _Call) -> bool:
        query_id = _req_str(call.params, "callback_query_id")
        created = self._open_callbacks.pop(query_id, None)
        if created is None or time.monotonic() - created > CALLBACK_QUERY_TTL:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self.callback_answers[query_id] = _opt_str(call.params, "text")
        if _opt_bool(call.params, "show_alert"):
            self.callback_alerts.add(query_id)
        self._touch()
        return True

    def _commands_key(self, params: Json) -> tuple[str, str]:
        return _scope_key(_opt_json(params, "scope")), _opt_str(params, "language_code") or ""

    async def _set_my_commands(self, call: _Call) -> bool:
        commands = _opt_json(call.params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("can't parse commands JSON object")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise _bad("can't parse BotCommand")
            command = str(item.get("command", ""))
            description = str(item.get("description", ""))
            if not COMMAND_RE.match(command):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("command description is empty")
            cleaned.append({"command": command, "description": description})
        self._commands[self._commands_key(call.params)] = cleaned
        return True

    async def _get_my_commands(self, call: _Call) -> list[Json]:
        return list(self._commands.get(self._commands_key(call.params), []))

    async def _delete_my_commands(self, call: _Call) -> bool:
        self._commands.pop(self._commands_key(call.params), None)
        return True

    # --- webhook ----------------------------------------------------------------------------

    def _drop_pending_if_asked(self, params: Json) -> None:
        if _opt_bool(params, "drop_pending_updates"):
            self._pending.clear()

    async def _set_webhook(self, call: _Call) -> bool:
        params = call.params
        url = _opt_str(params, "url") or ""
        secret = _opt_str(params, "secret_token") or None
        if secret is not None and not SECRET_RE.match(secret):
            raise _bad("secret token contains unallowed characters")
        # Real Telegram wants HTTPS on ports 443, 80, 88 or 8443; the sandbox takes any
        # http(s) URL so the bot can listen on 127.0.0.1.
        if url and not url.startswith(("http://", "https://")):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        allowed = _opt_json(params, "allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed] or None
        self._drop_pending_if_asked(params)
        max_connections = _opt_int(params, "max_connections") or 40
        self._webhook = _Webhook(url, secret, max_connections) if url else None
        self._notify()
        return True

    async def _delete_webhook(self, call: _Call) -> bool:
        self._drop_pending_if_asked(call.params)
        self._webhook = None
        self._notify()
        return True

    async def _get_webhook_info(self, call: _Call) -> Json:
        info: Json = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        hook = self._webhook
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    def _webhook_next(self) -> _Pending | None:
        return self._pending[0] if self._webhook is not None and self._pending else None

    def _webhook_done(self, entry: _Pending) -> None:
        self._pending = [e for e in self._pending if e is not entry]

    async def _deliver(self, session: aiohttp.ClientSession, entry: _Pending) -> bool:
        hook = self._webhook
        if hook is None:  # deleted meanwhile
            return False
        status, error = await self._post_update(
            session, hook.url, entry.update, hook.secret_token, self._run_webhook_reply
        )
        self.webhook_log.append(
            WebhookAttempt(entry.update_id, hook.url, status, error, hook.secret_token)
        )
        if error is None:
            return True
        hook.last_error_date = int(time.time())
        hook.last_error_message = error
        log.info("webhook delivery of update %s failed: %s", entry.update_id, error)
        return False

    async def _run_webhook_reply(self, response: aiohttp.ClientResponse) -> None:
        """Execute a method the bot put in its webhook answer, as Telegram does."""
        call = _Call(params={}, files={})
        try:
            if response.content_type == "application/json":
                body = await response.json()
                if isinstance(body, dict):
                    call.params.update(body)
            elif response.content_type == "multipart/form-data":
                await _read_multipart(
                    aiohttp.MultipartReader(response.headers, response.content), call
                )
        except (ValueError, aiohttp.ClientError):
            return
        method = call.params.pop("method", None)
        handler = self._methods.get(str(method).lower()) if method else None
        if handler is None:
            return
        try:
            await handler(call)
        except TelegramApiError as exc:  # Telegram drops these silently
            log.info("webhook reply %s failed: %s", method, exc.description)

    # --- HTTP handlers ----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(TelegramApiError(401, "Unauthorized"))
        handler = self._methods.get(request.match_info["method"].lower())
        if handler is None:
            return self._error(TelegramApiError(404, "Not Found: method not found"))
        try:
            result = await handler(await _read_call(request))
        except TelegramApiError as exc:
            return self._error(exc)
        except ClientGone:
            return web.Response(status=499)
        return ok(result)

    @staticmethod
    def _error(exc: TelegramApiError) -> web.Response:
        return web.json_response(exc.body(), status=exc.status, dumps=dumps)

    def _control_actions(self) -> dict[str, Callable[..., Any]]:
        return {
            **super()._control_actions(),
            "add_user": self.add_user,
            "user_says": self.user_says,
            "user_sends_photo": self.user_sends_photo,
            "user_sends_sticker": self.user_sends_sticker,
            "group_says": self.group_says,
            "press": self.press,
            "press_data": self.press_data,
            "block": self.block,
            "unblock": self.unblock,
            "redeliver": self.redeliver,
            "commands": self.commands,
            "callback_answers": lambda: self.callback_answers,
        }


def main(argv: list[str] | None = None) -> None:
    """Run the fake until interrupted."""
    parser = command_line(__doc__, "123456:SANDBOX", 8081, "enforce rate limits")
    args = parser.parse_args(argv)
    fake = FakeTelegram(args.token, limits=args.limits)
    serve_forever(fake, args.host, args.port, "Telegram Bot API")


if __name__ == "__main__":
    main()
