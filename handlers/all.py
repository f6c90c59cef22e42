"""Importing this module registers every flow and command."""

from __future__ import annotations

import handlers.fieldvisits.approve
import handlers.fieldvisits.correct
import handlers.fieldvisits.duty
import handlers.fieldvisits.entries
import handlers.fieldvisits.log
import handlers.fieldvisits.pace
import handlers.fieldvisits.plans
import handlers.fieldvisits.report
import handlers.fieldvisits.trip_end
import handlers.fieldvisits.trip_report
import handlers.fieldvisits.trips
import handlers.join
import handlers.leaders
import handlers.link
import handlers.meetings.attend
import handlers.meetings.report
import handlers.meetings.schedule
import handlers.menu
import handlers.mydata
import handlers.oneplusone.confirm
import handlers.oneplusone.mine
import handlers.oneplusone.plan
import handlers.oneplusone.record
import handlers.oneplusone.report
import handlers.polls.answer
import handlers.polls.create
import handlers.polls.report  # noqa: F401
from handlers.base import REGISTRY, Registry


def load() -> Registry:
    return REGISTRY
