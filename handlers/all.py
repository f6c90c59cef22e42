"""Importing this module registers every flow and command."""

from __future__ import annotations

import handlers.join
import handlers.leaders
import handlers.link
import handlers.meetings.attend
import handlers.meetings.report
import handlers.meetings.schedule
import handlers.menu
import handlers.mydata
import handlers.polls.answer
import handlers.polls.create
import handlers.polls.report  # noqa: F401
from handlers.base import REGISTRY, Registry


def load() -> Registry:
    return REGISTRY
