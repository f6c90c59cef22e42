"""Start-up in one place: ``create_app(settings)`` builds everything; nothing at import time."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Protocol

from aiohttp import web

from bot.channels import Accept, ChannelAdapter
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.engine import ConversationEngine
from bot.i18n import SUPPORTED, translate
from bot.media import ROUTE as MEDIA_ROUTE
from bot.media import media_handler
from bot.messages import Incoming
from bot.processor import EventProcessor
from bot.sender import OutboxSender
from bot.telegram import TelegramChannel
from bot.zalo.channel import ZaloChannel
from handlers import all as all_handlers
from handlers.base import Registry
from scheduler.clock import build_scheduler
from scheduler.leader import LeaderElection
from storage.db import Database
from storage.migrate import upgrade_async

log = logging.getLogger(__name__)


class Receiver(ChannelAdapter, Protocol):
    async def start_polling(self, accept_with_retry: Accept) -> None: ...
    async def stop_polling(self) -> None: ...
    async def webhook(self, request: web.Request) -> web.Response: ...
    async def set_webhook(self, url: str) -> None: ...
    async def close(self) -> None: ...


@dataclass
class App:
    settings: Settings
    db: Database
    registry: Registry
    processor: EventProcessor
    sender: OutboxSender
    channels: dict[str, Receiver] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def accept_durably(self, incoming: Incoming) -> bool:
        """Store an update, waiting out a database outage instead of losing it (polling)."""
        pause = 0.5
        while True:
            try:
                return await self.processor.accept(incoming)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not store update; retrying in %.1fs", pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 30.0)

    def telegram_commands(self) -> dict[str, list[tuple[str, str]]]:
        public = sorted(
            (c for c in self.registry.commands.values() if c.public), key=lambda c: c.order
        )
        by_language = {
            locale: [(c.name, translate(locale, c.description)) for c in public]
            for locale in SUPPORTED
        }
        by_language[""] = by_language[self.settings.default_locale]
        return by_language

    async def start(self, *, webhook: bool = False, migrate: bool = True) -> None:
        if migrate:
            await upgrade_async(self.settings.database_url)
        resumed = await self.processor.resume()
        if resumed:
            log.info("resuming unfinished events of %d conversations", resumed)
        # Serve before sending: a chart's link handed to Zalo must already work.
        if webhook or self.settings.public_url:
            await self._serve_http(webhooks=webhook)
        self._tasks.append(asyncio.create_task(self.sender.run()))
        telegram = self.channels.get("telegram")
        if isinstance(telegram, TelegramChannel):
            try:
                await telegram.set_commands(self.telegram_commands())
            except Exception:
                log.exception("setMyCommands failed; continuing")
        if webhook:
            await self._register_webhooks()
        else:
            for channel in self.channels.values():
                await channel.start_polling(self.accept_durably)
        self.leader = LeaderElection(
            self.settings.database_url, retry_seconds=self.settings.leader_retry_seconds
        )
        await self.leader.start()
        self.scheduler = build_scheduler(
            self.db, self.settings, self.processor.clock, lambda: self.leader.is_leader
        )
        self.scheduler.start()
        log.info(
            "doanbot running: %s (%s)",
            ", ".join(self.channels) or "no channel",
            "webhook" if webhook else "polling",
        )

    def http_app(self, *, webhooks: bool) -> web.Application:
        """The bot's HTTP routes: health, chart and file links, and (``webhooks``) the
        channels' webhook endpoints."""
        app = web.Application()
        app.router.add_get("/healthz", _healthz)
        app.router.add_get(MEDIA_ROUTE, media_handler(self.db, self.processor.clock))
        if webhooks:
            for name, channel in self.channels.items():
                app.router.add_post(f"/{name}/webhook", channel.webhook)
        return app

    async def _serve_http(self, *, webhooks: bool) -> None:
        # No access log: a media link's path is its secret.
        self._runner = web.AppRunner(self.http_app(webhooks=webhooks), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.webhook_host, self.settings.webhook_port)
        await site.start()
        log.info(
            "serving HTTP on %s:%d (%s)",
            self.settings.webhook_host,
            self.settings.webhook_port,
            "webhooks, media links" if webhooks else "media links",
        )

    async def _register_webhooks(self) -> None:
        if self.settings.public_url:
            base = self.settings.public_url.rstrip("/")
            for name, channel in self.channels.items():
                await channel.set_webhook(f"{base}/{name}/webhook")

    async def stop(self) -> None:
        if getattr(self, "scheduler", None) is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if getattr(self, "leader", None) is not None:
            await self.leader.stop()
        # Stop taking updates first, then let the sender give back its claims while the
        # channels can still send, and only then close the channels.
        for channel in self.channels.values():
            await channel.stop_polling()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.processor.close()
        await self.sender.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for channel in self.channels.values():
            await channel.close()
        await self.db.dispose()


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def create_app(settings: Settings, clock: Clock = system_clock) -> App:
    db = Database(settings.database_url)
    registry = all_handlers.load()
    engine = ConversationEngine(settings, registry)
    adapters: dict[str, Receiver] = {}
    sender = OutboxSender(db, adapters, settings, clock)
    processor = EventProcessor(db, engine, settings, clock, on_outbox=sender.wake)
    if settings.telegram_enabled and settings.telegram_token is not None:
        adapters["telegram"] = TelegramChannel(
            settings.telegram_token.get_secret_value(),
            settings.telegram_api_url,
            processor.accept,
            _secret(settings.telegram_webhook_secret),
            paid_broadcast=settings.telegram_paid_broadcast,
        )
    if settings.zalo_enabled and settings.zalo_token is not None:
        adapters["zalo"] = ZaloChannel(
            settings.zalo_token.get_secret_value(),
            settings.zalo_api_url,
            processor.accept,
            _secret(settings.zalo_webhook_secret),
            locale=settings.default_locale,
            tz=settings.tz,
        )
    return App(settings, db, registry, processor, sender, adapters)


def _secret(value: object) -> str | None:
    from pydantic import SecretStr

    return value.get_secret_value() if isinstance(value, SecretStr) else None
