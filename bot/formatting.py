"""Dates and times as Vietnamese readers expect them: dd/mm/yyyy, local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def dmy(day: date) -> str:
    """A calendar day as the unions write it: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def format_date(value: date | datetime, tz: ZoneInfo) -> str:
    """A day, or the local day of a moment, as dd/mm/yyyy."""
    if isinstance(value, datetime):
        value = value.astimezone(tz).date()
    return dmy(value)


def format_datetime(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")
