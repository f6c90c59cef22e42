"""All settings in one object, read once from the environment (prefix ``DOANBOT_``) or ``.env``."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_PATH = Path("data") / "doanbot.sqlite3"


class Settings(BaseSettings):
    """Settings of one bot deployment. Secrets are ``SecretStr`` so they never print."""

    model_config = SettingsConfigDict(
        env_prefix="DOANBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr | None = None
    telegram_bot_username: str | None = None

    zalo_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: SecretStr | None = None

    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080
    # Public HTTPS address of this server; when set, `run --webhook` registers the webhooks,
    # and charts and files get links under it (`run` then serves them on webhook_host:port).
    public_url: str | None = None
    # How long the link of a chart or an exported file works (and the file is kept).
    media_link_hours: int = Field(default=72, ge=1)

    timezone: str = "Asia/Ho_Chi_Minh"
    default_locale: str = "vi"

    # How long an unfinished conversation waits before it is dropped.
    flow_timeout_minutes: int = Field(default=30, ge=1)
    invite_valid_days: int = Field(default=30, ge=1)
    link_code_valid_minutes: int = Field(default=15, ge=1)
    # Attempts for an incoming event before it is given up (database hiccups).
    inbox_max_attempts: int = Field(default=5, ge=1)
    # Attempts for one outgoing message on network errors and 5xx.
    outbox_max_attempts: int = Field(default=6, ge=1)
    # Processed-update records and sent replies are kept this long, then pruned.
    retention_days: int = Field(default=7, ge=1)

    # --- delivery: pacing per channel (Telegram's published limits by default) ---
    telegram_rate_per_second: float = Field(default=30.0, gt=0)
    telegram_private_chat_interval: float = Field(default=1.0, ge=0)  # seconds between messages
    telegram_group_per_minute: int = Field(default=20, ge=1)
    # Paid broadcast (allow_paid_broadcast, paid in Telegram Stars): bulk up to 1000/s.
    telegram_paid_broadcast: bool = False
    zalo_rate_per_second: float = Field(default=10.0, gt=0)
    # A sender's claim on an outbox row; a crashed sender's rows are taken over after this.
    outbox_lease_seconds: int = Field(default=60, ge=5)

    # --- quiet hours and reminders: defaults, each unit may override them ---
    quiet_start: str = "21:30"
    quiet_end: str = "07:00"
    secretary_reminder_days: int = Field(default=3, ge=0)  # prepare the agenda
    member_reminder_hours: list[int] = Field(default_factory=lambda: [24, 2])
    # How often the scheduler looks for due work.
    scheduler_tick_seconds: float = Field(default=30.0, gt=0)
    # How often a process that is not the scheduler leader tries to become it.
    leader_retry_seconds: float = Field(default=10.0, gt=0)
    # Sandbox and tests only: a file holding a number of seconds added to the real clock.
    clock_offset_file: str | None = None

    # --- polls ---
    # Keys the hash that keeps anonymous answers one per person. Set it in production
    # (and keep it out of the database) so that not even whoever holds a database copy
    # can tie an open poll's anonymous answers to people; closing a poll wipes its salt.
    poll_answer_secret: SecretStr | None = None
    # When people who have not answered are nudged: a share of the poll's time ("50%")
    # or hours before the deadline ("24h"); nobody is nudged more than poll_max_nudges.
    poll_nudges: list[str] = Field(default_factory=lambda: ["50%", "24h"])
    poll_max_nudges: int = Field(default=2, ge=0)

    # --- "1+1" ---
    # Young people each member is to bring in a year; a unit (and what lies under it)
    # may set its own with `doanbot units set CODE oneplusone_target=2`.
    oneplusone_target: int = Field(default=1, ge=1)
    # How long a referral link works. Unanswered by then, the member's words about the
    # young person are wiped and only a count is left.
    referral_valid_days: int = Field(default=14, ge=1)
    # Members behind target are reminded on this day of the month (or the next two
    # days, if the bot was down), and never once they have reached it.
    oneplusone_reminder_day: int = Field(default=5, ge=1, le=26)

    log_level: str = "INFO"

    @property
    def poll_secret(self) -> bytes:
        secret = self.poll_answer_secret.get_secret_value() if self.poll_answer_secret else ""
        return secret.encode() or b"doanbot-poll"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token and self.telegram_token.get_secret_value())

    @property
    def zalo_enabled(self) -> bool:
        return bool(self.zalo_token and self.zalo_token.get_secret_value())
