"""What the fake Telegram and Zalo servers share: everything but the protocol itself.

:class:`FakeBotApi` serves ``/bot{token}/{method}`` (the subclass answers it) and the
JSON control routes ``/_sandbox/{action}``, keeps per-chat transcripts with a change
counter to wait on, holds sends back on request, and pushes pending updates to a
webhook one at a time, in order, retrying failures. Each fake adds its protocol:
the API methods, its updates and its error format.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence, Sized
from dataclasses import asdict, dataclass, is_dataclass
from functools import partial
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import aiohttp
from aiohttp import web

Json = dict[str, Any]

dumps = partial(json.dumps, ensure_ascii=False)


class ClientGone(Exception):
    """The bot hung up while its call was held back; nothing may be recorded."""


@dataclass
class Call:
    """One API call: its parameters and (if over HTTP) the request."""

    params: Json
    request: web.Request | None = None

    def gone(self) -> bool:
        """Whether the HTTP client already hung up."""
        if self.request is None:
            return False
        transport = self.request.transport
        return transport is None or transport.is_closing()


def ok(result: Any) -> web.Response:
    """The ``{"ok": true, "result": ...}`` answer both APIs give on success."""
    return web.json_response({"ok": True, "result": result}, dumps=dumps)


def jsonable(value: Any) -> Any:
    """A JSON-ready copy of control API results (messages, dataclasses, containers)."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    return value


class _MessageLike(Protocol):
    @property
    def sender(self) -> str: ...


M = TypeVar("M", bound=_MessageLike)
M_co = TypeVar("M_co", covariant=True)
K = TypeVar("K", int, str)  # chat ids: numbers on Telegram, strings on Zalo


class _ChatLike(Protocol[M_co]):
    @property
    def messages(self) -> Sequence[M_co]: ...


class FakeBotApi(Generic[K, M]):
    """An in-memory bot API server for one token, with a control API for tests.

    Subclasses set :attr:`secret_header` and the webhook error texts, fill
    ``_chats``, answer ``/bot{token}/{method}`` in :meth:`_handle_api` and deliver
    updates through :meth:`_webhook_next`, :meth:`_deliver` and :meth:`_webhook_done`.
    """

    secret_header: ClassVar[str]
    client_max_size: ClassVar[int] = 1024**2
    #: Query-string values of the control API that are numbers.
    int_args: ClassVar[frozenset[str]] = frozenset({"count", "since"})
    float_args: ClassVar[frozenset[str]] = frozenset({"timeout", "seconds"})
    #: How a failed webhook POST is described (``{status} {reason}``, ``{exc}``).
    webhook_status_error: ClassVar[str] = "webhook answered {status} {reason}"
    webhook_connection_error: ClassVar[str] = "connection failed: {exc}"

    _chats: Mapping[K, _ChatLike[M]]
    _pending: Sized  # updates waiting for the bot

    def __init__(
        self, token: str, *, limits: bool, webhook_retry_delay: float, webhook_timeout: float
    ) -> None:
        self.token = token
        self.limits = limits
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.base_url = ""

        # Counters a benchmark can read.
        self.sends_accepted = 0
        self.answers_429 = 0
        self.sends_per_chat: Counter[K] = Counter()

        self.chat_actions: list[tuple[K, str]] = []
        #: Bumped whenever a transcript changes; see :meth:`wait_for_change`.
        self.version = 0

        self._blocked: set[K] = set()
        self._delays: dict[K, float] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None

    # --- server lifecycle -------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the API and the control routes; return the base URL ``http://host:port``."""
        app = web.Application(client_max_size=self.client_max_size)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/_sandbox/{action}", self._handle_control)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}"
        self._webhook_task = asyncio.create_task(self._webhook_loop())
        return self.base_url

    async def stop(self) -> None:
        """Stop serving; waiting long polls return at once."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """``{base_url}/bot{token}``: what the bot uses instead of the real API server."""
        return f"{self.base_url}/bot{self.token}"

    # --- controls and reading what happened -------------------------------------------------

    def delay_sends(self, chat_id: K, seconds: float) -> None:
        """Hold every send (or edit) to ``chat_id`` for ``seconds`` before answering (0: off)."""
        if seconds > 0:
            self._delays[chat_id] = seconds
        else:
            self._delays.pop(chat_id, None)

    def transcript(self, chat_id: K) -> list[M]:
        """All messages of a chat, both sides, oldest first."""
        chat = self._chats.get(chat_id)
        return list(chat.messages) if chat else []

    def bot_messages(self, chat_id: K) -> list[M]:
        """The messages the bot sent to a chat (on Telegram deleted ones too, flagged)."""
        return [m for m in self.transcript(chat_id) if m.sender == "bot"]

    def format_transcript(self, chat_id: K) -> str:
        """A readable transcript, one line per message."""
        raise NotImplementedError

    async def wait_for_bot_messages(
        self,
        chat_id: K,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented test helper signature
    ) -> list[M]:
        """Wait until the bot has sent at least ``count`` messages to the chat in total.

        Returns all bot messages of the chat; raises :class:`TimeoutError`
        (``asyncio.TimeoutError``) with the transcript otherwise.
        """
        deadline = time.monotonic() + timeout
        while True:
            messages = self.bot_messages(chat_id)
            remaining = deadline - time.monotonic()
            if len(messages) >= count:
                return messages
            if remaining <= 0:
                raise TimeoutError(
                    f"the bot sent {len(messages)} of {count} messages to chat {chat_id} "
                    f"within {timeout}s; transcript:\n{self.format_transcript(chat_id)}"
                )
            await self._wait(remaining)

    async def wait_for_change(
        self,
        since: int | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - mirrors wait_for_bot_messages
    ) -> int:
        """Wait until :attr:`version` is above ``since`` (default: now); return it."""
        start = self.version if since is None else since
        deadline = time.monotonic() + timeout
        while self.version <= start and (remaining := deadline - time.monotonic()) > 0:
            await self._wait(remaining)
        return self.version

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed or handed out (polling) or delivered (webhook)."""
        return len(self._pending)

    def stats(self) -> Json:
        """Counters for benchmarks."""
        return {
            "sends_accepted": self.sends_accepted,
            "answers_429": self.answers_429,
            "sends_per_chat": {str(k): v for k, v in self.sends_per_chat.items()},
            "pending_updates": len(self._pending),
        }

    # --- internals --------------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        """A transcript changed."""
        self.version += 1
        self._notify()

    async def _wait(self, seconds: float) -> None:
        """Sleep until the next state change or for ``seconds``, whichever comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    async def _hold(self, call: Call, chat_id: K) -> None:
        """The artificial delay, then the hung-up check (after the rate limits)."""
        delay = self._delays.get(chat_id)
        if delay:
            await asyncio.sleep(delay)
        if call.gone():
            raise ClientGone

    def _count_send(self, chat_id: K) -> None:
        self.sends_accepted += 1
        self.sends_per_chat[chat_id] += 1

    # --- webhook ----------------------------------------------------------------------------

    def _webhook_next(self) -> Any | None:
        """The next pending update to push, or None (no webhook or nothing pending)."""
        raise NotImplementedError

    async def _deliver(self, session: aiohttp.ClientSession, entry: Any) -> bool:
        """POST one update to the webhook; whether it was accepted."""
        raise NotImplementedError

    def _webhook_done(self, entry: Any) -> None:
        """Forget a delivered update."""
        raise NotImplementedError

    async def _webhook_loop(self) -> None:
        """Push pending updates to the webhook one at a time, in order, retrying failures."""
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                changed = self._changed
                entry = self._webhook_next()
                if entry is None:
                    await changed.wait()
                    continue
                if await self._deliver(session, entry):
                    self._webhook_done(entry)
                    self._notify()
                else:
                    await asyncio.sleep(self.webhook_retry_delay)

    async def _post_update(
        self,
        session: aiohttp.ClientSession,
        url: str,
        body: Json,
        secret: str | None,
        on_success: Callable[[aiohttp.ClientResponse], Awaitable[None]] | None = None,
    ) -> tuple[int | None, str | None]:
        """POST ``body`` to the webhook: the HTTP status (None if none) and the error, if any."""
        headers = {self.secret_header: secret} if secret else {}
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        status: int | None = None
        try:
            async with session.post(url, json=body, headers=headers, timeout=timeout) as response:
                status = response.status
                if not 200 <= status < 300:
                    error = self.webhook_status_error.format(status=status, reason=response.reason)
                    return status, error
                if on_success is not None:
                    await on_success(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return status, self.webhook_connection_error.format(exc=f"{type(exc).__name__}: {exc}")
        return status, None

    # --- HTTP handlers ----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    def _control_actions(self) -> dict[str, Callable[..., Any]]:
        """The controls served under ``/_sandbox/{action}``; subclasses add their own."""
        return {
            "delay_sends": self.delay_sends,
            "transcript": self.transcript,
            "bot_messages": self.bot_messages,
            "wait_for_bot_messages": self.wait_for_bot_messages,
            "wait_for_change": self.wait_for_change,
            "chats": lambda: sorted(self._chats),
            "stats": self.stats,
        }

    def _control_kwargs(self, query: Mapping[str, str]) -> Json:
        kwargs: Json = {}
        for key, value in query.items():
            if key in self.int_args:
                kwargs[key] = int(value)
            elif key in self.float_args:
                kwargs[key] = float(value)
            else:
                kwargs[key] = value
        return kwargs

    async def _handle_control(self, request: web.Request) -> web.Response:
        action = self._control_actions().get(request.match_info["action"])
        if action is None:
            return web.json_response({"ok": False, "description": "unknown action"}, status=404)
        try:
            kwargs = self._control_kwargs(request.query)
            if request.can_read_body:
                body = await request.json()
                if not isinstance(body, dict):
                    raise ValueError("a JSON object is expected")
                kwargs.update(body)
            result = action(**kwargs)
            if asyncio.iscoroutine(result):
                result = await result
        except TimeoutError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=408)
        except (TypeError, ValueError, LookupError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return ok(jsonable(result))


# --- running a fake on its own ------------------------------------------------------------


def command_line(
    doc: str | None, token: str, port: int, limits_help: str
) -> argparse.ArgumentParser:
    """The options every fake takes when run with ``python -m``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--token", default=token)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--limits", action="store_true", help=limits_help)
    return parser


def serve_forever(fake: FakeBotApi[Any, Any], host: str, port: int, what: str) -> None:
    """Run ``fake`` on ``host:port`` until interrupted."""

    async def serve() -> None:
        url = await fake.start(host, port)
        print(f"fake {what} at {url} (token {fake.token})", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
