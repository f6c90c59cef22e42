"""The short results text sent when a poll closes (to organisers, and respondents if promised)."""

from __future__ import annotations

from bot.config import Settings
from bot.i18n import Translator
from handlers.polls.results import build_results, results_text
from storage.models import Poll, Unit
from storage.poll_results import load_counts
from storage.uow import UnitOfWork


async def closing_summary(
    uow: UnitOfWork, poll: Poll, unit: Unit, t: Translator, settings: Settings
) -> str:
    """Results of ``poll`` across its whole owning unit, as a phone-sized text.

    The small-cell rule applies as in every other view: respondents of an anonymous
    poll see exactly what an organiser sees, never more.
    """
    assert poll.id is not None
    questions = await uow.polls.questions(poll.id)
    subtree = list(await uow.units.subtree(unit))
    counts = await load_counts(uow.session, poll.id)
    return results_text(build_results(poll, questions, subtree, counts, tz=settings.tz), t)
