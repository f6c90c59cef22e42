"""An offline fake of the Zalo Bot Platform API for one bot token.

The real API lives at ``https://bot-api.zaloplatforms.com/bot{token}/{method}``
and takes POST requests with a JSON body. Unlike Telegram it answers errors
with HTTP 200 and ``{"ok": false, "error_code": N, "description": "..."}``
(400 bad request, 401 bad token, 404 unknown method, 408 ``getUpdates`` found
nothing within its timeout, 429 quota). ``getUpdates`` hands out ONE update per
call, with no offset and no acknowledgement: an update handed out is gone.
There are no buttons, keyboards or message edits.

Tests drive the simulated people through the Python control API
(:meth:`FakeZalo.user_says`, ...) and read what the bot sent from per-chat
transcripts; the same controls are served as JSON under ``/_sandbox/{action}``.

Run it standalone with ``python -m bot.sandbox.fake_zalo --token 1234:SANDBOX``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

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
from bot.sandbox.ratelimit import TokenBucket, retry_after

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000
SECRET_HEADER = "X-Bot-Api-Secret-Token"
WEBHOOK_ACTIVE = "webhook is active; call deleteWebhook first"
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker"})
DEFAULT_POLL_TIMEOUT = 30.0
#: How long sendPhoto waits for the photo's URL (only loopback URLs are fetched).
PHOTO_FETCH_TIMEOUT = 3.0

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"

Sender = Literal["bot", "user"]


class ZaloApiError(Exception):
    """An ``ok: false`` answer (always sent with HTTP status 200)."""

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description

    def body(self) -> Json:
        """The JSON body Zalo sends for this error."""
        return {"ok": False, "error_code": self.error_code, "description": self.description}


def _now_ms() -> int:
    return int(time.time() * 1000)


def _new_message_id() -> str:
    return secrets.token_hex(16)


def new_user_id() -> str:
    """A random id shaped like a real Zalo user id (18-19 digits)."""
    return str(random.randint(10**17, 10**19 - 1))


@dataclass
class Message:
    """One message in a chat transcript, sent by the bot or by a simulated person.

    ``document`` and ``edits`` are always empty on Zalo (it has neither); they
    keep the shape of the Telegram fake's records so helpers can serve both.

    For a photo the bot sent by a loopback ``http`` URL, ``fetched_*`` say what the fake
    got when it fetched it, as Zalo would (HTTP status, content type, byte count), or
    ``fetch_error`` why it got nothing.
    """

    chat_id: str
    message_id: str
    sender: Sender
    date: int  # unix milliseconds
    kind: str = "text"  # text | photo | sticker | unsupported
    text: str | None = None
    caption: str | None = None
    photo: str | None = None  # URL
    sticker: str | None = None
    from_id: str | None = None
    document: str | None = None
    edits: list[str] = field(default_factory=list)
    fetched_status: int | None = None
    fetched_type: str | None = None
    fetched_size: int | None = None
    fetch_error: str | None = None

    def to_dict(self) -> Json:
        """A JSON-ready copy for the control API."""
        return asdict(self)


@dataclass
class WebhookAttempt:
    """One POST of an update to the webhook and how it went."""

    message_id: str
    url: str
    status: int | None  # HTTP status, None on connection error
    error: str | None
    secret_token: str | None


@dataclass
class _Chat:
    id: str
    chat_type: str  # "PRIVATE" | "GROUP"
    messages: list[Message] = field(default_factory=list)


@dataclass(eq=False)
class _Pending:
    update: Json

    @property
    def message_id(self) -> str:
        return str(self.update["message"]["message_id"])


@dataclass
class _Injected:
    error_code: int
    description: str
    times: int


async def _read_params(request: web.Request) -> Json:
    params: Json = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        params.update({key: str(value) for key, value in form.items()})
        return params
    try:
        body = await request.json()
    except ValueError:
        raise ZaloApiError(400, "invalid JSON body") from None
    if not isinstance(body, dict):
        raise ZaloApiError(400, "invalid JSON body")
    params.update(body)
    return params


def _is_loopback_http(url: str) -> bool:
    """Only the bot's own server on this machine is fetched: the fake never goes online."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


async def _fetch_photo(message: Message, url: str) -> None:
    """Fetch a photo URL as Zalo would, and note on ``message`` what came back."""
    if not _is_loopback_http(url):
        return
    timeout = aiohttp.ClientTimeout(total=PHOTO_FETCH_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, allow_redirects=False) as response,
        ):
            body = await response.read()
            message.fetched_status = response.status
            message.fetched_type = response.content_type
            message.fetched_size = len(body)
    except (aiohttp.ClientError, TimeoutError) as exc:
        message.fetch_error = f"{type(exc).__name__}: {exc}"


def _opt_str(params: Json, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise ZaloApiError(400, f"{name} must be a string")
    return str(value)


def _req_str(params: Json, name: str) -> str:
    value = _opt_str(params, name)
    if value is None or not value.strip():
        raise ZaloApiError(400, f"{name} is required")
    return value


ApiMethod = Callable[[Call], Awaitable[Any]]


class FakeZalo(FakeBotApi[str, Message]):
    """In-memory Zalo Bot API server for one bot, with a control API for tests.

    Chat and user ids are strings; a private chat id equals the user id.
    """

    secret_header = SECRET_HEADER
    int_args = frozenset({"count", "since", "times", "error_code"})  # ids stay strings

    def __init__(
        self,
        token: str,
        *,
        limits: bool = False,
        rate: float = 10.0,
        wrap_webhook: bool = True,
        account_name: str = "bot.doanbot_sandbox",
        webhook_retry_delay: float = 1.0,
        webhook_timeout: float = 10.0,
    ) -> None:
        super().__init__(
            token,
            limits=limits,
            webhook_retry_delay=webhook_retry_delay,
            webhook_timeout=webhook_timeout,
        )
        self.wrap_webhook = wrap_webhook
        self.account_name = account_name
        head = token.split(":", 1)[0]
        self.bot_id = head if head.isdigit() else new_user_id()
        self.webhook_log: list[WebhookAttempt] = []

        self._bucket = TokenBucket(rate, max(1.0, rate))
        self._names: dict[str, str] = {}
        self._chats: dict[str, _Chat] = {}
        self._injected: dict[str, deque[_Injected]] = {}
        self._history: dict[str, Json] = {}
        self._pending: deque[_Pending] = deque()
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_updated_at = 0
        self._methods: dict[str, ApiMethod] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    # --- simulated people -------------------------------------------------------------------

    def user_says(self, user_id: str, text: str, *, display_name: str | None = None) -> str:
        """The user writes ``text`` to the bot; return the message id.

        A new user is called "Bình" unless ``display_name`` says otherwise.
        """
        return self._incoming(user_id, user_id, EVENT_TEXT, display_name, text=text)

    def user_sends_photo(
        self,
        user_id: str,
        url: str = "https://photo.sandbox.zalo.invalid/u/anh.jpg",
        *,
        caption: str | None = None,
        display_name: str | None = None,
    ) -> str:
        """The user sends a photo; return the message id."""
        return self._incoming(
            user_id, user_id, EVENT_IMAGE, display_name, photo=url, caption=caption
        )

    def user_sends_sticker(
        self, user_id: str, sticker: str = "b6e1bc7d2f4a", *, display_name: str | None = None
    ) -> str:
        """The user sends a sticker; return the message id."""
        return self._incoming(user_id, user_id, EVENT_STICKER, display_name, sticker=sticker)

    def user_sends_unsupported(self, user_id: str, *, display_name: str | None = None) -> str:
        """The user sends something the Bot API does not describe (voice, file...)."""
        return self._incoming(user_id, user_id, EVENT_UNSUPPORTED, display_name)

    def group_says(
        self, group_id: str, user_id: str, text: str, *, display_name: str | None = None
    ) -> str:
        """``user_id`` writes ``text`` in the group ``group_id``; return the message id."""
        return self._incoming(group_id, user_id, EVENT_TEXT, display_name, text=text, group=True)

    def redeliver(self, message_id: str) -> None:
        """Hand out the update of an earlier user message again (a duplicate)."""
        update = self._history.get(message_id)
        if update is None:
            raise LookupError(f"no update for message {message_id}")
        self._pending.append(_Pending(update))
        self._notify()

    def block(self, user_id: str) -> None:
        """The user blocks the bot: sends to them fail until they write again."""
        self._blocked.add(user_id)

    def unblock(self, user_id: str) -> None:
        """The user unblocks the bot."""
        self._blocked.discard(user_id)

    def fail_next(self, method: str, error_code: int, description: str, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with this ``ok: false`` error."""
        if method not in self._methods:
            raise ValueError(f"unknown Zalo method {method!r}")
        self._injected.setdefault(method, deque()).append(_Injected(error_code, description, times))

    # --- reading what happened --------------------------------------------------------------

    def format_transcript(self, chat_id: str) -> str:
        """A readable transcript, one line per message."""
        lines = []
        for m in self.transcript(chat_id):
            body = m.text if m.text is not None else f"<{m.kind}: {m.photo or m.sticker or ''}>"
            if m.caption:
                body += f" {m.caption!r}"
            lines.append(f"{m.message_id[:8]} {m.sender}: {body}")
        return "\n".join(lines) or "(empty)"

    @property
    def webhook_url(self) -> str:
        """The webhook URL set by the bot ("" while polling)."""
        return self._webhook_url

    # --- internals --------------------------------------------------------------------------

    def _chat(self, chat_id: str, chat_type: str = "PRIVATE") -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(chat_id, chat_type)
            self._chats[chat_id] = chat
        return chat

    def _incoming(
        self,
        chat_id: str,
        user_id: str,
        event_name: str,
        display_name: str | None,
        *,
        group: bool = False,
        text: str | None = None,
        photo: str | None = None,
        caption: str | None = None,
        sticker: str | None = None,
    ) -> str:
        if display_name:
            self._names[user_id] = display_name
        name = self._names.setdefault(user_id, "Bình")
        if not group:
            self.unblock(user_id)  # writing to a blocked bot unblocks it
        chat = self._chat(chat_id, "GROUP" if group else "PRIVATE")
        kinds = {EVENT_TEXT: "text", EVENT_IMAGE: "photo", EVENT_STICKER: "sticker"}
        message = Message(
            chat_id=chat_id,
            message_id=_new_message_id(),
            sender="user",
            date=_now_ms(),
            kind=kinds.get(event_name, "unsupported"),
            text=text,
            caption=caption,
            photo=photo,
            sticker=sticker,
            from_id=user_id,
        )
        self._append(chat, message)
        content = {"text": text, "photo": photo, "caption": caption, "sticker": sticker}
        update = {
            "event_name": event_name,
            "message": {
                "message_id": message.message_id,
                "date": message.date,
                "from": {"id": user_id, "display_name": name, "is_bot": False},
                "chat": {"id": chat_id, "chat_type": chat.chat_type},
                **{key: value for key, value in content.items() if value is not None},
            },
        }
        self._history[message.message_id] = update
        self._pending.append(_Pending(update))
        self._notify()
        return message.message_id

    def _append(self, chat: _Chat, message: Message) -> None:
        chat.messages.append(message)
        self._touch()

    def _take_injected(self, method: str) -> ZaloApiError | None:
        queue = self._injected.get(method)
        if not queue:
            return None
        injected = queue[0]
        injected.times -= 1
        if injected.times <= 0:
            queue.popleft()
        return ZaloApiError(injected.error_code, injected.description)

    def _target(self, params: Json) -> str:
        chat_id = _req_str(params, "chat_id")
        if chat_id in self._blocked:
            # Not documented by Zalo: the code and wording of this error are our guess.
            raise ZaloApiError(403, "user has blocked the bot")
        return chat_id

    async def _admit(self, call: Call, chat_id: str) -> None:
        """The quota, the artificial delay, and the hung-up check, in that order."""
        if self.limits:
            wait = self._bucket.try_acquire()
            if wait > 0:
                log.debug("quota exceeded, next slot in %ss", retry_after(wait))
                raise ZaloApiError(429, "quota exceeded")
        await self._hold(call, chat_id)

    def _record_send(self, message: Message) -> Json:
        self._append(self._chat(message.chat_id), message)
        self._count_send(message.chat_id)
        return {"message_id": message.message_id, "date": message.date}

    @staticmethod
    def _outgoing(chat_id: str, kind: str = "text", **content: str | None) -> Message:
        return Message(
            chat_id=chat_id,
            message_id=_new_message_id(),
            sender="bot",
            date=_now_ms(),
            kind=kind,
            text=content.get("text"),
            caption=content.get("caption"),
            photo=content.get("photo"),
            sticker=content.get("sticker"),
        )

    # --- API methods ------------------------------------------------------------------------

    async def _get_me(self, call: Call) -> Json:
        return {
            "id": self.bot_id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": True,
        }

    async def _get_updates(self, call: Call) -> Json:
        raw = call.params.get("timeout")
        try:
            timeout = DEFAULT_POLL_TIMEOUT if raw in (None, "") else float(raw)
        except (TypeError, ValueError):
            raise ZaloApiError(400, "timeout must be a number of seconds") from None
        deadline = time.monotonic() + max(timeout, 0.0)
        while True:
            if self._webhook_url:
                raise ZaloApiError(400, WEBHOOK_ACTIVE)
            if self._closing or call.gone():
                raise ZaloApiError(408, "Request timeout")  # nobody is listening any more
            if self._pending:
                return self._pending.popleft().update
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ZaloApiError(408, "Request timeout")
            await self._wait(min(remaining, 1.0))

    async def _send_message(self, call: Call) -> Json:
        text = _opt_str(call.params, "text")
        if text is None or not text.strip():
            raise ZaloApiError(400, "text is empty")
        if len(text) > TEXT_LIMIT:
            raise ZaloApiError(400, "text too long")
        chat_id = self._target(call.params)
        await self._admit(call, chat_id)
        return self._record_send(self._outgoing(chat_id, text=text))

    async def _send_photo(self, call: Call) -> Json:
        photo = _req_str(call.params, "photo")
        caption = _opt_str(call.params, "caption") or None
        if caption is not None and len(caption) > TEXT_LIMIT:
            raise ZaloApiError(400, "caption too long")
        chat_id = self._target(call.params)
        await self._admit(call, chat_id)
        message = self._outgoing(chat_id, "photo", photo=photo, caption=caption)
        await _fetch_photo(message, photo)
        return self._record_send(message)

    async def _send_sticker(self, call: Call) -> Json:
        sticker = _req_str(call.params, "sticker")
        chat_id = self._target(call.params)
        await self._admit(call, chat_id)
        return self._record_send(self._outgoing(chat_id, "sticker", sticker=sticker))

    async def _send_chat_action(self, call: Call) -> bool:
        action = _req_str(call.params, "action")
        if action not in CHAT_ACTIONS:
            raise ZaloApiError(400, "action is invalid")
        chat_id = self._target(call.params)
        self.chat_actions.append((chat_id, action))
        self._notify()
        return True

    def _webhook_info(self) -> Json:
        return {"url": self._webhook_url, "updated_at": self._webhook_updated_at}

    async def _set_webhook(self, call: Call) -> Json:
        url = _req_str(call.params, "url")
        # Real Zalo wants HTTPS; the sandbox takes any http(s) URL so the bot can use 127.0.0.1.
        if not url.startswith(("http://", "https://")):
            raise ZaloApiError(400, "url is invalid")
        secret = _opt_str(call.params, "secret_token") or ""
        if not 8 <= len(secret) <= 256:
            raise ZaloApiError(400, "secret_token must be 8-256 characters")
        self._webhook_url, self._webhook_secret = url, secret
        self._webhook_updated_at = _now_ms()
        self._notify()
        return self._webhook_info()

    async def _delete_webhook(self, call: Call) -> Json:
        self._webhook_url, self._webhook_secret = "", None
        self._webhook_updated_at = _now_ms()
        self._notify()
        return self._webhook_info()

    async def _get_webhook_info(self, call: Call) -> Json:
        return self._webhook_info()

    # --- webhook ----------------------------------------------------------------------------

    def _webhook_next(self) -> _Pending | None:
        return self._pending[0] if self._webhook_url and self._pending else None

    def _webhook_done(self, entry: _Pending) -> None:
        with contextlib.suppress(ValueError):
            self._pending.remove(entry)

    async def _deliver(self, session: aiohttp.ClientSession, entry: _Pending) -> bool:
        url, secret = self._webhook_url, self._webhook_secret
        body = {"ok": True, "result": entry.update} if self.wrap_webhook else entry.update
        status, error = await self._post_update(session, url, body, secret)
        self.webhook_log.append(WebhookAttempt(entry.message_id, url, status, error, secret))
        if error is not None:
            log.info("webhook delivery of message %s failed: %s", entry.message_id, error)
        return error is None

    # --- HTTP handlers ----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        try:
            if request.match_info["token"] != self.token:
                raise ZaloApiError(401, "Unauthorized")
            method = request.match_info["method"]
            handler = self._methods.get(method)
            if handler is None:
                raise ZaloApiError(404, "Not Found")
            injected = self._take_injected(method)
            if injected is not None:
                raise injected
            result = await handler(Call(await _read_params(request), request))
        except ZaloApiError as exc:
            if exc.error_code == 429:
                self.answers_429 += 1
            return web.json_response(exc.body(), dumps=dumps)
        except ClientGone:
            return web.Response(status=499)
        return ok(result)

    def _control_actions(self) -> dict[str, Callable[..., Any]]:
        return {
            **super()._control_actions(),
            "user_says": self.user_says,
            "user_sends_photo": self.user_sends_photo,
            "user_sends_sticker": self.user_sends_sticker,
            "user_sends_unsupported": self.user_sends_unsupported,
            "group_says": self.group_says,
            "redeliver": self.redeliver,
            "block": self.block,
            "unblock": self.unblock,
            "fail_next": self.fail_next,
            "new_user_id": new_user_id,
        }


def main(argv: list[str] | None = None) -> None:
    """Run the fake until interrupted."""
    parser = command_line(__doc__, "1234567890:SANDBOX", 8082, "enforce the send quota")
    parser.add_argument(
        "--unwrapped-webhook", action="store_true", help="POST bare updates to the webhook"
    )
    args = parser.parse_args(argv)
    fake = FakeZalo(args.token, limits=args.limits, wrap_webhook=not args.unwrapped_webhook)
    serve_forever(fake, args.host, args.port, "Zalo Bot API")


if __name__ == "__main__":
    main()
