"""Zalo through the thin Bot API client: no buttons, so choices become numbered text.

Zalo's getUpdates hands out one update and has no acknowledgement, so polling is
at-most-once by design; the webhook is the production mode. Either way an update is
stored in the inbox before anything else happens, and repeated ``message_id``s are
ignored there.

Zalo shows photos only by URL and carries no files: a chart goes as ``sendPhoto`` with
its link on the bot's own server, a file as a text with its download link, and without
a public URL (``DOANBOT_PUBLIC_URL`` unset) as a note saying where to get it instead.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.channels import Accept, Rejected, RetryLater, Transient, Unreachable
from bot.formatting import format_datetime
from bot.i18n import translate
from bot.media import redact
from bot.messages import PHOTO, Channel, Outgoing
from bot.webhooks import secret_ok
from bot.zalo.client import (
    MAX_TEXT_LENGTH,
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


def media_note(out: Outgoing, locale: str, tz: ZoneInfo) -> str:
    """The words standing in for what Zalo cannot carry: a file's link, or where to look."""
    if out.media_url and out.media_kind != PHOTO:
        if out.media_expires_at is None:
            return translate(locale, "media.file_link", name=out.media_name, url=out.media_url)
        return translate(
            locale,
            "media.file_link_until",
            name=out.media_name,
            url=out.media_url,
            until=format_datetime(out.media_expires_at, tz),
        )
    if out.media_kind == PHOTO:
        return translate(locale, "media.photo_elsewhere")
    return translate(locale, "media.file_elsewhere", name=out.media_name)


def _joined(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p)


class ZaloChannel:
    channel = Channel.ZALO

    def __init__(
        self,
        token: str,
        api_url: str,
        accept: Accept,
        webhook_secret: str | None,
        *,
        locale: str = "vi",
        tz: ZoneInfo | None = None,
    ) -> None:
        self.client = ZaloBotClient(token, base_url=api_url)
        self.webhook_secret = webhook_secret
        # For the words this adapter adds itself, when the message does not say its locale.
        self.locale = locale
        self.tz = tz or ZoneInfo("Asia/Ho_Chi_Minh")
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
        # An error may quote the request back: the media link's token must not reach a log.
        token = out.media_token
        try:
            await self._send(out)
        except ZaloRateLimited as exc:
            raise RetryLater(QUOTA_PAUSE_SECONDS) from exc
        except ZaloBlocked as exc:
            raise Unreachable(redact(str(exc), token)) from exc
        except ZaloBadRequest as exc:
            raise Rejected(redact(str(exc), token)) from exc
        except (ZaloServerError, ZaloNetworkError, ZaloUnauthorized) as exc:
            raise Transient(redact(str(exc), token)) from exc
        except ZaloError as exc:
            raise Rejected(redact(str(exc), token)) from exc

    async def _send(self, out: Outgoing) -> None:
        text = render_numbered(out)
        if out.media_token and out.media_kind == PHOTO and out.media_url:
            await self._send_photo(out.chat_id, out.media_url, text)
        elif out.media_token:
            note = media_note(out, out.locale or self.locale, self.tz)
            await self.client.send_text(out.chat_id, _joined(text, note))
        elif out.photo_url:
            await self._send_photo(out.chat_id, out.photo_url, text)
        else:
            await self.client.send_text(out.chat_id, text)

    async def _send_photo(self, chat_id: str, url: str, caption: str) -> None:
        """A photo by URL; a caption too long for one goes after it as text."""
        if len(caption) <= MAX_TEXT_LENGTH:
            await self.client.send_photo(chat_id, url, caption=caption or None)
            return
        await self.client.send_photo(chat_id, url)
        await self.client.send_text(chat_id, caption)
