"""``doanbot run``: start the app and run until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.app import create_app
from bot.clock import OffsetClock, system_clock
from bot.config import Settings
from bot.logs import configure_logging

log = logging.getLogger(__name__)


async def run_bot(settings: Settings, *, webhook: bool = False) -> None:
    configure_logging(settings)
    if not (settings.telegram_enabled or settings.zalo_enabled):
        log.warning("no channel token set (DOANBOT_TELEGRAM_TOKEN / DOANBOT_ZALO_TOKEN)")
    clock = OffsetClock(settings.clock_offset_file) if settings.clock_offset_file else system_clock
    app = create_app(settings, clock=clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.start(webhook=webhook)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await app.stop()
