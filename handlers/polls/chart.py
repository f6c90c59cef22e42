"""A poll question's answers as a bar chart image, sized for a phone screen.

Drawn with matplotlib's object API (``Figure`` and the Agg canvas), never pyplot:
no global figure state, so charts can be drawn from several threads at once.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from bot.i18n import Translator
from handlers.polls.results import QuestionResult, chart_rows, hidden_mark, percent

WIDTH_PX = 800
DPI = 100
ROW_INCHES = 0.62
LABEL_CHARS = 22  # a wrapped option label's line, at the label font size
TITLE_CHARS = 44
BAR_COLOR = "#d7263d"  # the Youth Union's red
MUTED = "#6b6b6b"
# DejaVu Sans ships with matplotlib and has every Vietnamese letter with its marks.
FONT = "DejaVu Sans"


def _font(size: float, weight: str = "normal") -> FontProperties:
    return FontProperties(family=FONT, size=size, weight=weight)


def _wrap(text: str, width: int, lines: int) -> str:
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: width - 1].rstrip() + "…"
    return "\n".join(wrapped)


def chart_png(
    question_title: str,
    rows: list[tuple[str, int | None]],
    subtitle: str,
    *,
    total: int | None = None,
    hidden_mark: str = "<5",
) -> bytes:
    """A horizontal bar per option, top to bottom in the given order, as PNG bytes.

    Each bar ends with its count and its share of ``total`` (the question's
    respondents; the sum of the counts when not given). A count of None is a hidden
    cell: no bar, just ``hidden_mark``.
    """
    labels = [_wrap(label, LABEL_CHARS, 3) for label, _ in rows]
    values = [count or 0 for _, count in rows]
    base = total if total is not None else sum(values)
    title = _wrap(question_title, TITLE_CHARS, 3)
    label_lines = sum(label.count("\n") + 1 for label in labels)
    header = 0.45 * (title.count("\n") + 1) + 0.5
    height = header + max(len(rows) * ROW_INCHES, label_lines * 0.34) + 0.3

    figure = Figure(figsize=(WIDTH_PX / DPI, height), dpi=DPI)
    FigureCanvasAgg(figure)
    figure.text(0.03, 1 - 0.2 / height, title, va="top", fontproperties=_font(19, "bold"))
    figure.text(
        0.03,
        1 - (header - 0.15) / height,
        subtitle,
        va="bottom",
        color=MUTED,
        fontproperties=_font(14),
    )
    axes = figure.add_axes((0.36, 0.2 / height, 0.6, 1 - (header + 0.3) / height))
    positions = list(range(len(rows)))
    axes.barh(positions, values, color=BAR_COLOR, height=0.62)
    axes.set_yticks(positions, labels)
    for tick in axes.get_yticklabels():
        tick.set_fontproperties(_font(14))
    axes.invert_yaxis()  # first option on top
    top = max(values, default=0) or 1
    axes.set_xlim(0, top * 1.45)  # room for "120 (38%)" after the longest bar
    axes.set_ylim(len(rows) - 0.5, -0.5)
    for position, (_, count) in zip(positions, rows, strict=True):
        if count is None:
            text, color = hidden_mark, MUTED
        else:
            share = f" ({percent(count / base)})" if base else ""
            text, color = f"{count}{share}", "black"
        axes.text(
            (count or 0) + top * 0.02,
            position,
            text,
            va="center",
            color=color,
            fontproperties=_font(15, "bold"),
        )
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="y", length=0, pad=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def question_chart(result: QuestionResult, t: Translator, subtitle: str) -> bytes | None:
    """The chart of a question's answers over the viewer's whole unit; None if none to show.

    Shares are of the question's respondents and hidden cells carry the same mark as
    in the text, so a guard cell (which may hold many answers) is never labelled "<5".
    """
    rows = chart_rows(result, t)
    if not rows or result.total is None:
        return None
    question = result.question
    title = t("pollres.question_title", n=question.position, text=question.text)
    return chart_png(
        title, rows, subtitle, total=result.total.respondents, hidden_mark=hidden_mark(t)
    )
