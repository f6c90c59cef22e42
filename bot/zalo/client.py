"""A thin async client for the Zalo Bot Platform HTTP API.

Every method is ``POST {base}/bot{token}/{method}`` with a JSON body. Zalo reports
errors as HTTP 200 with ``{"ok": false, "error_code": N, "description": "..."}``;
they are raised here as :class:`ZaloError` subclasses, as are HTTP 5xx answers,
unreadable bodies and network failures.

The bot token is part of every request URL. This module never puts the URL, the
token or the webhook secret in an exception, a repr or a log message, but **httpx
itself logs each request URL at INFO level** on the ``"httpx"`` logger: the
application must keep that logger at WARNING or above (see
:func:`quiet_httpx_request_log`).
"""

from __future__ import annotations

import logging
import math
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr

from bot.textsplit import split_text

__all__ = [
    "DEFAULT_BASE_URL",
    "MAX_TEXT_LENGTH",
    "ZaloBadRequest",
    "ZaloBlocked",
    "ZaloBotClient",
    "ZaloError",
    "ZaloNetworkError",
    "ZaloRateLimited",
    "ZaloServerError",
    "ZaloUnauthorized",
    "error_for_code",
    "quiet_httpx_request_log",
    "split_text",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
MAX_TEXT_LENGTH = 2000  # sendMessage's limit on ``text``
DEFAULT_TIMEOUT = 15.0  # seconds, for every call except the long poll
POLL_GRACE = 10.0  # how much longer the HTTP request waits than a getUpdates long poll
POLL_EMPTY = 408  # getUpdates' error_code for "nothing new within the timeout"
WEBHOOK_SECRET_LENGTH = (8, 256)


# --- errors ------------------------------------------------------------------------


class ZaloError(Exception):
    """An API call failed. ``error_code`` is Zalo's code or the HTTP status, if any."""

    def __init__(self, error_code: int | None, description: str) -> None:
        super().__init__(error_code, description)
        self.error_code = error_code
        self.description = description

    def __str__(self) -> str:
        if self.error_code is None:
            return f"Zalo API error: {self.description}"
        return f"Zalo API error {self.error_code}: {self.description}"


class ZaloUnauthorized(ZaloError):
    """401: the bot token is wrong or revoked."""


class ZaloRateLimited(ZaloError):
    """429: the quota is used up; ``retry_after`` seconds if Zalo said so."""

    def __init__(
        self, error_code: int | None, description: str, retry_after: float | None = None
    ) -> None:
        super().__init__(error_code, description)
        self.retry_after = retry_after


class ZaloBlocked(ZaloError):
    """403 (undocumented by Zalo): this user or chat cannot be reached by the bot."""


class ZaloBadRequest(ZaloError):
    """400/404: the request was wrong (bad chat id, empty text, unknown method)."""


class ZaloServerError(ZaloError):
    """HTTP 5xx, or an answer that is not the JSON envelope Zalo promises."""


class ZaloNetworkError(ZaloError):
    """The request did not complete: connection failure or timeout."""


_ERRORS_BY_CODE: dict[int, type[ZaloError]] = {
    400: ZaloBadRequest,
    401: ZaloUnauthorized,
    403: ZaloBlocked,
    404: ZaloBadRequest,
    429: ZaloRateLimited,
}


def error_for_code(
    error_code: int | None, description: str, *, retry_after: float | None = None
) -> ZaloError:
    """The exception for an ``ok: false`` answer (or a bare HTTP error status)."""
    if error_code == 429:
        return ZaloRateLimited(error_code, description, retry_after)
    if error_code is not None and 500 <= error_code <= 599:
        return ZaloServerError(error_code, description)
    error_class = ZaloError if error_code is None else _ERRORS_BY_CODE.get(error_code, ZaloError)
    return error_class(error_code, description)


def quiet_httpx_request_log() -> None:
    """Stop httpx from logging request URLs (which contain the bot token) at INFO."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        return int(value)
    return None


def _as_seconds(value: object) -> float | None:
    """A non-negative finite number of seconds, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _retry_after(envelope: dict[str, Any], response: httpx.Response) -> float | None:
    """Seconds to wait after a 429, from Telegram-style ``parameters`` or the header."""
    parameters = envelope.get("parameters")
    if isinstance(parameters, dict):
        seconds = _as_seconds(parameters.get("retry_after"))
        if seconds is not None:
            return seconds
    return _as_seconds(response.headers.get("retry-after"))


def _as_dict(result: object) -> dict[str, Any]:
    return result if isinstance(result, dict) else {}


# --- client ------------------------------------------------------------------------


class ZaloBotClient:
    """The Zalo Bot API, one coroutine per method.

    ``http`` may be given (tests pass one with an ``httpx.MockTransport``); it is then
    left open by :meth:`aclose`. Otherwise the client owns its ``httpx.AsyncClient``.
    Use ``async with ZaloBotClient(token) as zalo:`` or call :meth:`aclose`.
    """

    def __init__(
        self,
        token: SecretStr | str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_text_length: int = MAX_TEXT_LENGTH,
    ) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        if not self._token.get_secret_value():
            raise ValueError("the Zalo bot token is empty")
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._max_text_length = max_text_length
        self._owns_http = http is None
        self._http = httpx.AsyncClient(timeout=timeout) if http is None else http

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    # --- plumbing ------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        """``text`` with the token replaced, for anything that may end up in a log."""
        return text.replace(self._token.get_secret_value(), "<token>")

    async def _call(
        self,
        method: str,
        payload: dict[str, Any] | None = None,
        *,
        http_timeout: httpx.Timeout | None = None,
    ) -> Any:
        """POST one method and return its ``result``, or raise a :class:`ZaloError`."""
        url = f"{self._base_url}/bot{self._token.get_secret_value()}/{method}"
        log.debug("zalo: calling %s", method)
        # The httpx exceptions are dropped (``from None``): their messages and request
        # objects may carry the URL, and so the token, into tracebacks.
        try:
            response = await self._http.post(
                url,
                json=payload or {},
                timeout=self._timeout if http_timeout is None else http_timeout,
            )
        except httpx.TimeoutException as exc:
            reason = f"{method}: timed out ({type(exc).__name__})"
            raise ZaloNetworkError(None, reason) from None
        except httpx.TransportError as exc:
            reason = f"{method}: {type(exc).__name__}: {self._scrub(str(exc))}"
            raise ZaloNetworkError(None, reason) from None
        except httpx.RequestError as exc:  # undecodable body, redirect loop
            reason = f"{method}: {type(exc).__name__}: {self._scrub(str(exc))}"
            raise ZaloServerError(None, reason) from None
        except httpx.InvalidURL:
            reason = f"{method}: invalid request URL (check the base URL and the token)"
            raise ZaloError(None, reason) from None
        return self._result(method, response)

    def _result(self, method: str, response: httpx.Response) -> Any:
        """Unwrap Zalo's ``{"ok": ..., "result": ...}`` envelope."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        envelope: dict[str, Any] = body if isinstance(body, dict) else {}
        description = self._scrub(str(envelope.get("description") or ""))
        if status >= 500:
            raise ZaloServerError(status, f"{method}: HTTP {status} {description}".rstrip())
        if not envelope and 200 <= status < 300:
            raise ZaloServerError(None, f"{method}: HTTP {status} without a JSON envelope")
        if envelope.get("ok") is True:
            return envelope.get("result")
        error_code = _as_int(envelope.get("error_code"))
        if error_code is None and status != 200:
            error_code = status
        reason = f"{method}: {description or f'HTTP {status}'}"
        raise error_for_code(error_code, reason, retry_after=_retry_after(envelope, response))

    # --- methods -------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        """The bot's own account (``id``, ``account_name``, ...)."""
        return _as_dict(await self._call("getMe"))

    # ``timeout`` is the server-side long-poll wait, not a cancellation deadline.
    async def get_updates(self, timeout: int) -> dict[str, Any] | None:  # noqa: ASYNC109
        """Long-poll for the next update; None when nothing came within ``timeout`` s.

        Zalo hands out one update per call with no offset and no acknowledgement, so
        an update is lost if the process dies after this returns (at-most-once).
        """
        if timeout < 0:
            raise ValueError("timeout must not be negative")
        wait = httpx.Timeout(self._timeout, read=timeout + POLL_GRACE)
        try:
            result = await self._call("getUpdates", {"timeout": str(timeout)}, http_timeout=wait)
        except ZaloError as exc:
            if exc.error_code == POLL_EMPTY:
                return None
            raise
        if not isinstance(result, dict) or not result:
            return None
        return result

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send one text message (1..``max_text_length`` characters)."""
        if not text:
            raise ValueError("cannot send an empty message")
        if len(text) > self._max_text_length:
            raise ValueError(
                f"text is {len(text)} characters, over the limit of {self._max_text_length};"
                " use send_text()"
            )
        return _as_dict(await self._call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_text(self, chat_id: str, text: str) -> list[dict[str, Any]]:
        """Send ``text`` as as many messages as needed, in order; [] for blank text.

        If one part fails the exception propagates and the later parts are not sent.
        """
        return [
            await self.send_message(chat_id, part)
            for part in split_text(text, self._max_text_length)
        ]

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str | None = None
    ) -> dict[str, Any]:
        """Send a photo by URL, with an optional caption."""
        payload: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            payload["caption"] = caption
        return _as_dict(await self._call("sendPhoto", payload))

    async def send_sticker(self, chat_id: str, sticker: str) -> dict[str, Any]:
        """Send a sticker by its id."""
        return _as_dict(await self._call("sendSticker", {"chat_id": chat_id, "sticker": sticker}))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing..." (or another action) in the chat for a few seconds."""
        await self._call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Deliver updates to ``url``; Zalo sends ``secret_token`` back in a header."""
        low, high = WEBHOOK_SECRET_LENGTH
        if not low <= len(secret_token) <= high:
            raise ValueError(f"the webhook secret must be {low} to {high} characters long")
        payload = {"url": url, "secret_token": secret_token}
        return _as_dict(await self._call("setWebhook", payload))

    async def delete_webhook(self) -> dict[str, Any]:
        """Stop webhook delivery (needed before :meth:`get_updates` works)."""
        return _as_dict(await self._call("deleteWebhook"))

    async def get_webhook_info(self) -> dict[str, Any]:
        """The current webhook (``url``, ``updated_at``); empty ``url`` when none."""
        return _as_dict(await self._call("getWebhookInfo"))
