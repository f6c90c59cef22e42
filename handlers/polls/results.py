"""Poll results rolled up the unit tree, safe to show for an anonymous poll.

Pure functions: ``build_results`` turns the leaf-unit counts of
``storage.poll_results`` into the rows a viewer may see (the viewer's unit and its
direct children); ``results_text`` writes them for a phone screen.

The small-cell rule of an anonymous poll: no count of answers below ``MIN_CELL`` is
shown, nor left computable from what is shown.

- A unit with fewer than MIN_CELL respondents to a question joins an "other units"
  row; while that row is still too small the next smallest unit joins it too (a
  hidden row could be worked out as the total minus the rows shown).
- A cell with 1..MIN_CELL-1 answers is hidden, then more cells (guards) are hidden
  until no hidden cell can be pinned to a single value from its row (single choice
  and scale cells add up to the row's respondents) or from its column (the unit
  rows add up to the total). Each row and column is checked on its own.
- Every hidden cell looks the same, so a reader cannot tell a small cell from a
  guard (which holds at least MIN_CELL answers) and narrow it down.
- A mean is one more equation: it is shown only for a row with nothing hidden.
- Fewer than MIN_CELL answers to a question in all: no breakdown at all.

Who was asked, reached and answered is not an answer and is shown as it is.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.formatting import format_date
from bot.i18n import Translator
from storage.models import MIN_CELL, Poll, PollQuestion, QuestionKind, Unit
from storage.poll_results import Participation, PollCounts

SCALE_POINTS = 5
TOP_OPTIONS = 5  # options listed per question in the chat summary
RATE_LINES = 10  # units listed with their response rate in the chat summary
DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class RowKind(enum.StrEnum):
    TOTAL = "total"  # the viewer's unit and everything under it
    UNIT = "unit"  # a direct child of the viewer's unit, with its subtree
    OWN = "own"  # people of the viewer's unit itself, not of a unit under it
    MERGED = "merged"  # small units put together


@dataclass(frozen=True)
class Cell:
    """People who picked one option in one row; ``count`` is None when hidden."""

    option: int
    count: int | None
    share: float | None  # of the row's respondents

    @property
    def hidden(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class Row:
    kind: RowKind
    name: str  # unit name; empty for the merged row
    unit_ids: tuple[int, ...]
    respondents: int
    cells: tuple[Cell, ...]
    mean: float | None = None  # scale questions only


@dataclass(frozen=True)
class QuestionResult:
    question: PollQuestion
    respondents: int  # in the viewer's subtree (not shown when below MIN_CELL)
    total: Row | None  # None: no answers, or too few to show anything
    rows: tuple[Row, ...]  # per direct child; empty when there is nothing to break down

    @property
    def too_few(self) -> bool:
        """Answers exist but are too few to show (anonymous poll)."""
        return self.total is None and self.respondents > 0


@dataclass(frozen=True)
class UnitRate:
    kind: RowKind
    name: str
    unit_id: int
    participation: Participation


@dataclass(frozen=True)
class PollResults:
    poll: Poll
    unit: Unit  # the viewer's unit: every number covers its subtree
    tz: ZoneInfo
    participation: Participation
    rates: tuple[UnitRate, ...]  # per direct child (and the unit's own people), tree order
    questions: tuple[QuestionResult, ...]


def option_numbers(question: PollQuestion) -> list[int]:
    """The option numbers an answer to ``question`` may hold (none for free text)."""
    if question.kind == QuestionKind.SCALE:
        return list(range(1, SCALE_POINTS + 1))
    if question.kind == QuestionKind.TEXT:
        return []
    return list(range(1, len(question.options) + 1 + (1 if question.allow_other else 0)))


def build_results(
    poll: Poll,
    questions: Sequence[PollQuestion],
    subtree: Sequence[Unit],
    counts: PollCounts,
    *,
    tz: ZoneInfo = DEFAULT_TZ,
) -> PollResults:
    """What the viewer of ``subtree`` (its first, top unit) may see of the poll.

    ``subtree`` is the viewer's unit and every unit under it; answers of people in
    units outside it are left out.
    """
    viewer = min(subtree, key=lambda u: len(u.path))
    assert viewer.id is not None
    group_of = _groups(viewer, subtree)
    order = [viewer.id] + [u.id for u in subtree if u.parent_id == viewer.id and u.id]
    names = {u.id: u.name for u in subtree}

    people: dict[int, Participation] = defaultdict(Participation)
    for unit_id, part in counts.participation.items():
        if unit_id in group_of:
            people[group_of[unit_id]] += part
    rates = tuple(
        UnitRate(_kind(key, viewer), names[key], key, people[key])
        for key in order
        if people[key].targeted
    )
    total = sum(people.values(), Participation())

    sizes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (question_id, unit_id), n in counts.respondents.items():
        if unit_id in group_of:
            sizes[question_id][group_of[unit_id]] += n
    picks: dict[int, dict[int, dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    for (question_id, unit_id, option), n in counts.choices.items():
        if unit_id in group_of:
            picks[question_id][group_of[unit_id]][option] += n

    results = []
    for question in sorted(questions, key=lambda q: q.position):
        assert question.id is not None
        groups = [
            _Group(key, _kind(key, viewer), names[key], (key,), sizes[question.id][key])
            for key in order
        ]
        results.append(
            _question_result(question, groups, picks[question.id], anonymous=poll.anonymous)
        )
    return PollResults(poll, viewer, tz, total, rates, tuple(results))


def _groups(viewer: Unit, subtree: Sequence[Unit]) -> dict[int, int]:
    """unit id -> the direct child of the viewer it lies under (the viewer for itself)."""
    assert viewer.id is not None
    depth = len(viewer.path.strip("/").split("/"))
    group_of: dict[int, int] = {}
    for unit in subtree:
        if unit.id is None or not unit.path.startswith(viewer.path):
            continue
        parts = unit.path.strip("/").split("/")
        group_of[unit.id] = int(parts[depth]) if len(parts) > depth else viewer.id
    return group_of


def _kind(key: int, viewer: Unit) -> RowKind:
    return RowKind.OWN if key == viewer.id else RowKind.UNIT


@dataclass(frozen=True)
class _Group:
    key: int
    kind: RowKind
    name: str
    unit_ids: tuple[int, ...]
    size: int


def _question_result(
    question: PollQuestion,
    groups: list[_Group],
    picks: Mapping[int, Mapping[int, int]],
    *,
    anonymous: bool,
) -> QuestionResult:
    everyone = sum(g.size for g in groups)
    if everyone == 0 or (anonymous and everyone < MIN_CELL):
        return QuestionResult(question, everyone, None, ())
    present = [g for g in groups if g.size > 0]
    options = option_numbers(question)
    rows_add_up = question.kind in (QuestionKind.SINGLE, QuestionKind.SCALE)
    forced: set[int] = set()  # units merged because their row gave a cell away
    while True:
        parts = _merge_small(present, forced) if anonymous else present
        if len(parts) == 1:
            parts = []  # one part is the total again
        table = [_tally(groups, picks, options)] + [_tally([g], picks, options) for g in parts]
        if not anonymous:
            hidden = [[False] * len(options) for _ in table]
            break
        hidden, stuck = suppress(
            table, [everyone] + [g.size for g in parts], rows_add_up=rows_add_up
        )
        if not stuck:
            break
        if 0 in stuck:  # even the total would give a cell away
            return QuestionResult(question, everyone, None, ())
        for r in stuck:
            if parts[r - 1].kind != RowKind.MERGED:
                forced.add(parts[r - 1].key)
            else:  # the merged row takes in one more unit
                forced.add(min((g for g in parts if g.kind != RowKind.MERGED), key=_size).key)
    top = _Group(0, RowKind.TOTAL, "", tuple(g.key for g in groups), everyone)
    rows = [
        _row(group, options, counts, mask, question.kind)
        for group, counts, mask in zip([top, *parts], table, hidden, strict=True)
    ]
    return QuestionResult(question, everyone, rows[0], tuple(rows[1:]))


def _tally(
    groups: Sequence[_Group], picks: Mapping[int, Mapping[int, int]], options: list[int]
) -> list[int]:
    return [sum(picks[k].get(o, 0) for g in groups for k in g.unit_ids) for o in options]


def _size(group: _Group) -> int:
    return group.size


def _merge_small(present: list[_Group], forced: set[int]) -> list[_Group]:
    """Units with too few respondents, put together into one big enough "other units" row.

    ``forced`` units are merged whatever their size. Returns no rows at all when every
    unit ended up merged (the row would repeat the total).
    """
    merged = [g for g in present if g.size < MIN_CELL or g.key in forced]
    if not merged:
        return present
    rest = sorted((g for g in present if g not in merged), key=_size)
    while sum(g.size for g in merged) < MIN_CELL and rest:
        merged.append(rest.pop(0))
    if not rest:
        return []
    keep = {g.key for g in rest}
    other = _Group(
        key=-1,
        kind=RowKind.MERGED,
        name="",
        unit_ids=tuple(k for g in present if g.key not in keep for k in g.unit_ids),
        size=sum(g.size for g in merged),
    )
    return [g for g in present if g.key in keep] + [other]


def _row(group: _Group, options: list[int], counts: list[int], mask: list[bool], kind: str) -> Row:
    cells = tuple(
        Cell(o, None, None) if hide else Cell(o, c, c / group.size if group.size else None)
        for o, c, hide in zip(options, counts, mask, strict=True)
    )
    picked = sum(counts)
    mean: float | None = None
    if kind == QuestionKind.SCALE and not any(mask) and picked:
        mean = sum(o * c for o, c in zip(options, counts, strict=True)) / picked
    return Row(group.kind, group.name, group.unit_ids, group.size, cells, mean)


# --- the small-cell rule -----------------------------------------------------------------

# One linear equation a reader can write from the table: sum(coef * cell) = known value.
_Term = tuple[int, int, int]  # (row, column, coefficient +1 or -1)


def suppress(
    table: list[list[int]], sizes: list[int], *, rows_add_up: bool
) -> tuple[list[list[bool]], set[int]]:
    """Which cells of an anonymous result table to hide, and which rows are stuck.

    ``table[0]`` is the total row and ``table[1:]`` its parts, which add up to it
    column by column; ``sizes`` are the rows' respondents (all shown). With
    ``rows_add_up`` (one option per person) each row's cells add up to its size.
    A cell of 1..MIN_CELL-1 is hidden; then, while an equation of a row or a column
    pins a hidden cell to one value, one more of its nonzero cells is hidden: the
    smallest that does not leave another equation stuck.

    A row still giving a cell away (all its cells hidden, say five people with five
    different answers) is "stuck": the caller merges it or shows nothing. A stuck
    column (never seen, but cheap to cover) makes every part row stuck.
    """
    hidden = [[0 < c < MIN_CELL for c in row] for row in table]
    width = len(table[0]) if table else 0
    equations: list[list[_Term]] = []
    if rows_add_up:
        equations += [[(r, o, 1) for o in range(width)] for r in range(len(table))]
    if len(table) > 1:
        equations += [
            [(0, o, 1)] + [(r, o, -1) for r in range(1, len(table))] for o in range(width)
        ]
    guards = _Guards(table, equations)
    changed = True
    while changed:
        changed = False
        for terms in equations:
            if not _pins(terms, table, sizes, hidden):
                continue
            now = {(r, o) for r, row in enumerate(hidden) for o, h in enumerate(row) if h}
            spare = guards.shown(terms, now)
            if spare:
                r, o = min(spare, key=lambda c: (guards.stuck(c, terms, now), table[c[0]][c[1]]))
                hidden[r][o] = changed = True
    stuck: set[int] = set()
    for terms in equations:
        if _pins(terms, table, sizes, hidden):
            rows = {r for r, _, _ in terms}
            stuck |= rows if len(rows) == 1 else rows - {0}
    return hidden, stuck


class _Guards:
    """Chooses guard cells: the smallest that does not, a few steps on, get stuck.

    Hiding a cell in an equation with nothing hidden yet leaves that equation with a
    single unknown, which needs a guard of its own; it is stuck when every other cell
    of it is zero, and the guard could then be worked out.
    """

    LOOKAHEAD = 2

    def __init__(self, table: list[list[int]], equations: list[list[_Term]]) -> None:
        self.table = table
        self.within: dict[tuple[int, int], list[list[_Term]]] = {}
        for terms in equations:
            for r, o, _ in terms:
                self.within.setdefault((r, o), []).append(terms)

    def shown(self, terms: list[_Term], hidden: set[tuple[int, int]]) -> list[tuple[int, int]]:
        """The equation's shown nonzero cells: those that could become guards."""
        return [(r, o) for r, o, _ in terms if (r, o) not in hidden and self.table[r][o]]

    def stuck(
        self,
        cell: tuple[int, int],
        origin: list[_Term],
        hidden: set[tuple[int, int]],
        depth: int = LOOKAHEAD,
    ) -> int:
        """How many equations hiding ``cell`` leaves stuck, taking the best next guards."""
        after = hidden | {cell}
        count = 0
        for terms in self.within[cell]:
            if terms is origin or any((r, o) in hidden for r, o, _ in terms):
                continue  # it already has an unknown: one more only helps
            spare = self.shown(terms, after)
            if not spare:
                count += 1
            elif depth:
                count += min(self.stuck(c, terms, after, depth - 1) for c in spare)
        return count


def _pins(
    terms: list[_Term], table: list[list[int]], sizes: list[int], hidden: list[list[bool]]
) -> bool:
    """Whether this equation leaves some hidden cell with a single possible value.

    A reader knows a hidden cell lies in 1..row size (zeros are shown). The hidden
    terms add up to a value they can compute from the shown ones.
    """
    unknown = [(r, o, a) for r, o, a in terms if hidden[r][o]]
    if not unknown:
        return False
    if len(unknown) == 1:
        return True
    known = sum(a * table[r][o] for r, o, a in unknown)
    low = [min(a, a * sizes[r]) for r, _, a in unknown]
    high = [max(a, a * sizes[r]) for r, _, a in unknown]
    for i, (r, _, a) in enumerate(unknown):
        rest_low, rest_high = sum(low) - low[i], sum(high) - high[i]
        lo, hi = known - rest_high, known - rest_low  # bounds of a * cell
        if a < 0:
            lo, hi = -hi, -lo
        if max(lo, 1) >= min(hi, sizes[r]):
            return True
    return False


# --- words -------------------------------------------------------------------------------


def row_label(row: Row, t: Translator) -> str:
    """How a row is named to the reader."""
    if row.kind == RowKind.MERGED:
        return t("pollres.merged_units", n=len(row.unit_ids))
    if row.kind == RowKind.OWN:
        return t("pollres.own_unit", unit=row.name)
    if row.kind == RowKind.TOTAL:
        return t("pollres.total")
    return row.name


def rate_label(rate: UnitRate, t: Translator) -> str:
    if rate.kind == RowKind.OWN:
        return t("pollres.own_unit", unit=rate.name)
    return rate.name


def option_label(question: PollQuestion, option: int, t: Translator) -> str:
    """An option's words: its label, "other", or a point on the scale."""
    if question.kind == QuestionKind.SCALE:
        return t("pollres.scale_point", n=option)
    if option <= len(question.options):
        return question.options[option - 1]
    return t("pollres.other_option")


def hidden_mark(t: Translator) -> str:
    """What a hidden cell shows: the same for small cells and for their guards."""
    return t("pollres.hidden")


def percent(share: float | None) -> str:
    """A share as a whole percentage, halves rounded up (62.5% is 63%, as on paper)."""
    return "-" if share is None else f"{math.floor(share * 100 + 0.5)}%"


def decimal(value: float, t: Translator) -> str:
    return f"{value:.1f}".replace(".", t("pollres.decimal_point"))


def cell_text(cell: Cell, t: Translator) -> str:
    if cell.count is None:
        return hidden_mark(t)
    return f"{cell.count} ({percent(cell.share)})"


def chart_rows(result: QuestionResult, t: Translator) -> list[tuple[str, int | None]]:
    """(label, count or None when hidden) of the total row, for ``chart.chart_png``."""
    if result.total is None:
        return []
    cells = list(result.total.cells)
    if result.question.kind == QuestionKind.SCALE:
        cells.reverse()  # the best mark on top, as in the text
    return [(option_label(result.question, c.option, t), c.count) for c in cells]


def results_text(
    results: PollResults,
    t: Translator,
    terms: Mapping[int, Sequence[tuple[str, int]]] | None = None,
) -> str:
    """A short summary for a phone screen: response rate, top answers, slowest units.

    ``terms`` may give, per free-text question id, its most used words
    (``words.top_terms``) to list under it.
    """
    poll, people = results.poll, results.participation
    lines = [
        t("pollres.title", title=poll.title),
        t(
            "pollres.period",
            unit=results.unit.name,
            opens=format_date(poll.opens_at, results.tz),
            closes=format_date(poll.closes_at, results.tz),
            mode=t("pollres.anonymous") if poll.anonymous else t("pollres.named"),
        ),
        _rate_head(people, t),
    ]
    any_hidden = False
    for result in results.questions:
        lines.append("")
        lines += _question_lines(result, t, (terms or {}).get(result.question.id or 0, ()))
        # Only the total row is in this text; unit rows are in the workbook.
        if result.total is not None:
            any_hidden |= any(c.hidden for c in result.total.cells)
    if any_hidden:
        lines += ["", t("pollres.hidden_note", mark=hidden_mark(t), n=MIN_CELL)]
    # A branch has no units under it: its one "own people" line would repeat the header.
    if results.rates and [r.kind for r in results.rates] != [RowKind.OWN]:
        lines += ["", t("pollres.rates_head")]
        # Slowest first: those are the units a secretary should nudge.
        slowest = sorted(results.rates, key=lambda r: (r.participation.rate or 0, r.name))
        lines += [_rate_line(r, t) for r in slowest[:RATE_LINES]]
        if len(slowest) > RATE_LINES:
            lines.append(t("pollres.more_units", n=len(slowest) - RATE_LINES))
    return "\n".join(lines)


def _rate_head(people: Participation, t: Translator) -> str:
    head = t(
        "pollres.answered",
        answered=people.answered,
        targeted=people.targeted,
        rate=percent(people.rate),
    )
    if people.unreached:
        head += t("pollres.unreached", n=people.unreached)
    return head


def _rate_line(rate: UnitRate, t: Translator) -> str:
    p = rate.participation
    line = t(
        "pollres.rate_line",
        unit=rate_label(rate, t),
        answered=p.answered,
        targeted=p.targeted,
        rate=percent(p.rate),
    )
    if p.unreached:
        line += t("pollres.unreached", n=p.unreached)
    return line


def _question_lines(
    result: QuestionResult, t: Translator, terms: Sequence[tuple[str, int]]
) -> list[str]:
    question, total = result.question, result.total
    head = t("pollres.question", n=question.position, text=question.text)
    if total is None:
        return [
            head,
            t("pollres.too_few", n=MIN_CELL) if result.too_few else t("pollres.no_answers"),
        ]
    if question.kind == QuestionKind.MULTI:
        head += t("pollres.respondents_multi", n=total.respondents)
    else:
        head += t("pollres.respondents", n=total.respondents)
    lines = [head]
    if question.kind == QuestionKind.TEXT:
        if terms:
            words = ", ".join(f"{term} ({n})" for term, n in terms[: TOP_OPTIONS * 2])
            lines.append(t("pollres.common_words", words=words))
        return lines
    cells = list(total.cells)
    if question.kind == QuestionKind.SCALE:
        cells.reverse()  # the best mark on top
    else:
        # Most picked first; hidden cells (which may hold many) before the zeros.
        cells.sort(key=lambda c: (c.count == 0, c.count is None, -(c.count or 0), c.option))
    for cell in cells[:TOP_OPTIONS]:
        label = option_label(question, cell.option, t)
        lines.append(t("pollres.option_line", label=label, value=cell_text(cell, t)))
    if len(cells) > TOP_OPTIONS:
        lines.append(t("pollres.more_options", n=len(cells) - TOP_OPTIONS))
    if total.mean is not None:
        lines.append(t("pollres.mean", mean=decimal(total.mean, t), top=SCALE_POINTS))
    return lines
