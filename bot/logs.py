"""Logging set-up that never prints a token."""

from __future__ import annotations

import logging
import re

from bot.config import Settings


class RedactSecrets(logging.Filter):
    """Replaces every configured secret, and anything shaped like a bot URL token, with ***."""

    _BOT_URL = re.compile(r"/bot[^/\s]+/")

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._BOT_URL.sub("/bot***/", message)
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(settings: Settings) -> None:
    secrets = [
        s.get_secret_value()
        for s in (
            settings.telegram_token,
            settings.zalo_token,
            settings.telegram_webhook_secret,
            settings.zalo_webhook_secret,
        )
        if s is not None
    ]
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets(secrets))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "httpcore", "aiohttp.access", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
