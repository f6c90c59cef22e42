"""Telegram on aiogram 3: updates in as ``Incoming``, ``Outgoing`` out as API calls.

aiogram handlers stay thin: they build an ``Incoming`` and store it in the inbox.
Polling runs with ``handle_as_tasks=False`` so an update is stored before the next
getUpdates confirms it: a crash in between means Telegram sends it again, and the
inbox's unique key makes the repeat harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from aiohttp import web

from bot.channels import Accept, Rejected, RetryLater, Transient, Unreachable
from bot.messages import PHOTO, Channel, ChatKind, Incoming, Outgoing
from bot.textsplit import split_text
from bot.webhooks import secret_ok

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ["message", "callback_query"]


def keyboard(out: Outgoing) -> InlineKeyboardMarkup | None:
    """Choices as inline buttons: two per row when every label is short, else one."""
    if not out.choices:
        return None
    buttons = [
        InlineKeyboardButton(
            text=c.label, callback_data=c.key if c.is_action else f"{out.nonce}:{c.key}"
        )
        for c in out.choices
    ]
    width = 2 if all(len(c.label) <= 14 for c in out.choices) else 1
    rows = [buttons[i : i + width] for i in range(0, len(buttons), width)]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def display_name(user: User) -> str:
    """Vietnamese write the family name first; Telegram's two fields are Western-ordered."""
    if user.last_name and (user.language_code or "").startswith("vi"):
        return f"{user.last_name} {user.first_name}"
    return user.full_name


def from_message(update_id: int, message: Message) -> Incoming | None:
    user = message.from_user
    if user is None or user.is_bot:
        return None
    # Only the platform's reference to a photo is kept (the largest size comes last);
    # the bot never downloads it.
    photo_ref = message.photo[-1].file_id if message.photo else None
    location = message.location
    return Incoming(
        channel=Channel.TELEGRAM,
        update_key=str(update_id),
        chat_id=str(message.chat.id),
        user_id=str(user.id),
        received_at=datetime.now(UTC),
        chat_kind=ChatKind.PRIVATE if message.chat.type == "private" else ChatKind.GROUP,
        text=message.text if message.text is not None else message.caption,
        display_name=display_name(user),
        language_code=user.language_code,
        has_media=message.text is None,
        photo_ref=photo_ref,
        latitude=location.latitude if location is not None else None,
        longitude=location.longitude if location is not None else None,
    )


def from_callback(update_id: int, query: CallbackQuery) -> Incoming | None:
    if query.message is None:
        return None
    chat = query.message.chat
    return Incoming(
        channel=Channel.TELEGRAM,
        update_key=str(update_id),
        chat_id=str(chat.id),
        user_id=str(query.from_user.id),
        received_at=datetime.now(UTC),
        chat_kind=ChatKind.PRIVATE if chat.type == "private" else ChatKind.GROUP,
        callback_data=query.data or "",
        callback_id=query.id,
        message_ref=str(query.message.message_id),
        message_text=getattr(query.message, "text", None),
        display_name=display_name(query.from_user),
        language_code=query.from_user.language_code,
    )


class TelegramChannel:
    """One Telegram bot: receiving (polling or webhook) and delivering."""

    channel = Channel.TELEGRAM

    def __init__(
        self,
        token: str,
        api_url: str,
        accept: Accept,
        webhook_secret: str | None,
        *,
        paid_broadcast: bool = False,
    ) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
        self.bot = Bot(token=token, session=session)
        self.webhook_secret = webhook_secret
        # Paid broadcast (settings.telegram_paid_broadcast): messages may go at up to
        # 1000/s, each charged in Telegram Stars; the sender's pacing follows the setting.
        self.paid_broadcast = paid_broadcast
        self._accept = accept
        self.dispatcher = Dispatcher()
        router = Router(name="doanbot")
        router.message.register(self._on_message)
        router.callback_query.register(self._on_callback)
        self.dispatcher.include_router(router)
        self._polling: asyncio.Task[None] | None = None

    async def _on_message(self, message: Message, event_update: Update) -> None:
        incoming = from_message(event_update.update_id, message)
        if incoming is not None:
            await self._accept(incoming)

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        incoming = from_callback(event_update.update_id, query)
        if incoming is not None:
            await self._accept(incoming)

    # --- receiving ---------------------------------------------------------
    async def start_polling(self, accept_with_retry: Accept) -> None:
        """Long polling; updates are stored (retrying while the database is down) in order."""
        self._accept = accept_with_retry
        await self.bot.delete_webhook(drop_pending_updates=False)
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                polling_timeout=25,
                handle_as_tasks=False,
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=False,
                close_bot_session=False,
            )
        )

    async def stop_polling(self) -> None:
        if self._polling is not None:
            with contextlib.suppress(RuntimeError):
                await self.dispatcher.stop_polling()
            self._polling.cancel()
            await asyncio.gather(self._polling, return_exceptions=True)

    async def webhook(self, request: web.Request) -> web.Response:
        """The webhook endpoint: check the secret, store the update, then say 200."""
        if not secret_ok(request, SECRET_HEADER, self.webhook_secret):
            return web.Response(status=401)
        try:
            update = Update.model_validate(await request.json(), context={"bot": self.bot})
        except ValueError:
            return web.Response(status=400)
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception:
            log.exception("could not store telegram update; Telegram will retry")
            return web.Response(status=500)
        return web.Response(status=200)

    async def set_webhook(self, url: str) -> None:
        await self.bot.set_webhook(
            url, secret_token=self.webhook_secret, allowed_updates=ALLOWED_UPDATES
        )

    async def set_commands(self, commands: dict[str, list[tuple[str, str]]]) -> None:
        """Register the command list per language ("" = default for everyone)."""
        for language, items in commands.items():
            await self.bot.set_my_commands(
                [BotCommand(command=name, description=text[:256]) for name, text in items],
                language_code=language or None,
            )

    async def username(self) -> str | None:
        me = await self.bot.get_me()
        return me.username

    async def close(self) -> None:
        await self.stop_polling()
        await self.bot.session.close()

    # --- delivering --------------------------------------------------------
    async def deliver(self, out: Outgoing) -> None:
        try:
            await self._deliver(out)
        except TelegramRetryAfter as exc:
            raise RetryLater(float(exc.retry_after)) from exc
        except TelegramForbiddenError as exc:
            raise Unreachable(exc.message) from exc
        except TelegramBadRequest as exc:
            if _harmless(out, exc.message):
                return
            raise Rejected(exc.message) from exc
        except (TelegramNetworkError, TelegramServerError) as exc:
            raise Transient(exc.message) from exc
        except TelegramAPIError as exc:
            raise Rejected(exc.message) from exc

    @property
    def _paid(self) -> bool | None:
        # None leaves the parameter out of the request: free sends stay as they were.
        return True if self.paid_broadcast else None

    async def _deliver(self, out: Outgoing) -> None:
        chat_id: Any = out.chat_id
        if out.kind == "answer":
            await self.bot.answer_callback_query(out.callback_id or "", text=out.text or None)
        elif out.kind == "edit":
            # The choices become the message's buttons: a multiple-choice question updates
            # to show what was ticked and stays pressable; no choices drops the buttons.
            await self.bot.edit_message_text(
                text=out.text[:TEXT_LIMIT],
                chat_id=chat_id,
                message_id=int(out.message_ref or 0),
                reply_markup=keyboard(out),
            )
        elif out.media_data is not None:
            await self._send_media(out, out.media_data)
        elif out.photo_url:
            await self.bot.send_photo(
                chat_id,
                out.photo_url,
                caption=out.text[:1024] or None,
                allow_paid_broadcast=self._paid,
            )
        else:
            await self._send_text(out, out.text)

    async def _send_text(self, out: Outgoing, text: str) -> None:
        parts = split_text(text, TEXT_LIMIT)
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            await self.bot.send_message(
                out.chat_id,
                part,
                reply_markup=keyboard(out) if last else None,
                allow_paid_broadcast=self._paid,
            )

    async def _send_media(self, out: Outgoing, data: bytes) -> None:
        """Upload a chart (shown as a photo) or a file; the text is its caption.

        A caption over Telegram's 1024 characters is not cut: the text follows the upload
        as messages of its own, with the buttons under the last one.
        """
        upload = BufferedInputFile(data, filename=out.media_name or "file")
        fits = len(out.text) <= CAPTION_LIMIT
        caption = (out.text if fits else "") or None
        markup = keyboard(out) if fits else None
        if out.media_kind == PHOTO:
            await self.bot.send_photo(
                out.chat_id,
                upload,
                caption=caption,
                reply_markup=markup,
                allow_paid_broadcast=self._paid,
            )
        else:
            await self.bot.send_document(
                out.chat_id,
                upload,
                caption=caption,
                reply_markup=markup,
                allow_paid_broadcast=self._paid,
            )
        if not fits:
            await self._send_text(out, out.text)


def _harmless(out: Outgoing, message: str) -> bool:
    """Edits that change nothing and answers to buttons pressed long ago need no retry."""
    text = message.lower()
    if out.kind == "edit" and ("not modified" in text or "not found" in text):
        return True
    return out.kind == "answer" and "query is too old" in text
