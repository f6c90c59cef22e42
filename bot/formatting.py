"""Dates and times as Vietnamese readers expect them: dd/mm/yyyy, local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def format_date(value: date | datetime, tz: ZoneInfo) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(tz).date()
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")
