"""Zalo through the thin Bot API client: no buttons, so choices become numbered text.

Zalo's getUpdates hands out one update and has no acknowledgement, so polling is
at-most-once by design; the webhook is the production mode. Either way an update is
stored in the inbox before anything else happens, and repeated ``message_id``s are
ignored there.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aiohttp import web

from bot.channels import Accept, Rejected, RetryLater, Transient, Unreachable
from bot.messages import Channel, Outgoing
from bot.webhooks import secret_ok
from bot.zalo.client import (
    ZaloBadRequest,
    ZaloBlocked,
    ZaloBotClient,
    ZaloError,
    ZaloNetworkError,
    ZaloRateLimited,
    ZaloServerError,
    ZaloUnauthorized,
)
from bot.zalo.updates import parse_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Bot-Api-Secret-Token"
POLL_TIMEOUT = 25
QUOTA_PAUSE_SECONDS = 5.0


def render_numbered(out: Outgoing) -> str:
    """The question, its options as "1. …" lines, and how to answer.

    Actions (buttons on proactive messages) are not numbered: such a message says
    in words what to reply, because no open question would give a number meaning.
    """
    if not out.choices:
        return out.text
    if all(c.is_action for c in out.choices):
        return "\n\n".join(p for p in (out.text, out.hint) if p)
    options = "\n".join(f"{i}. {c.label}" for i, c in enumerate(out.choices, start=1))
    parts = [out.text, options]
    if out.hint:
        parts.append(out.hint)
    return "\n\n".join(p for p in parts if p)


class ZaloChannel:
    channel = Channel.ZALO

    def __init__(
        self, token: str, api_url: str, accept: Accept, webhook_secret: str | None
    ) -> None:
        self.client = ZaloBotClient(token, base_url=api_url)
        self.webhook_secret = webhook_secret
        self._accept = accept
        self._polling: asyncio.Task[None] | None = None

    # --- receiving ---------------------------------------------------------
    async def start_polling(self, accept_with_retry: Accept) -> None:
        self._accept = accept_with_retry
        try:
            await self.client.delete_webhook()
        except ZaloError as exc:
            log.warning("zalo deleteWebhook failed: %s", exc)
        self._polling = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        pause = 1.0
        while True:
            try:
                body = await self.client.get_updates(timeout=POLL_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except ZaloUnauthorized:
                log.error("zalo token rejected (401); polling stops")
                return
            except ZaloError as exc:
                log.warning("zalo getUpdates failed: %s; retrying in %.0fs", exc, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)
                continue
            pause = 1.0
            if body is None:
                continue
            incoming = parse_update(body, received_at=datetime.now(UTC))
            if incoming is not None:
                await self._accept(incoming)

    async def stop_polling(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            await asyncio.gather(self._polling, return_exceptions=True)

    async def webhook(self, request: web.Request) -> web.Response:
        if not secret_ok(request, SECRET_HEADER, self.webhook_secret):
            return web.Response(status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        incoming = (
            parse_update(body, received_at=datetime.now(UTC)) if isinstance(body, dict) else None
        )
        if incoming is None:
            return web.json_response({"ok": True})
        try:
            await self._accept(incoming)
        except Exception:
            log.exception("could not store zalo update")
            return web.Response(status=500)
        return web.json_response({"ok": True})

    async def set_webhook(self, url: str) -> None:
        await self.client.set_webhook(url, self.webhook_secret or "")

    async def close(self) -> None:
        await self.stop_polling()
        await self.client.aclose()

    # --- delivering --------------------------------------------------------
    async def deliver(self, out: Outgoing) -> None:
        if out.kind == "answer" or (out.kind == "edit" and out.skip_if_no_edit):
            return  # Zalo has no buttons to answer and cannot edit messages
        try:
            if out.photo_url:
                await self.client.send_photo(out.chat_id, out.photo_url, caption=out.text or None)
            else:
                await self.client.send_text(out.chat_id, render_numbered(out))
        except ZaloRateLimited as exc:
            raise RetryLater(QUOTA_PAUSE_SECONDS) from exc
        except ZaloBlocked as exc:
            raise Unreachable(str(exc)) from exc
        except ZaloBadRequest as exc:
            raise Rejected(str(exc)) from exc
        except (ZaloServerError, ZaloNetworkError, ZaloUnauthorized) as exc:
            raise Transient(str(exc)) from exc
        except ZaloError as exc:
            raise Rejected(str(exc)) from exc
