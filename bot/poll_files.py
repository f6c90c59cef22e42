"""A poll written in a file (``doanbot polls create FILE.yaml``), checked into a PollSpec.

The file is YAML (or JSON); ``deploy/poll-example.yaml`` documents every key. Reading
checks everything that can be checked without the database and gathers every problem
before giving up, each with its place in the file ("questions[2].options", questions and
options counted from 1, as people count them) and, in YAML, its line. Then
:func:`check_units` checks the unit codes against the database. Problems are catalog keys
(``cli.polls.err.…``) with parameters, or pydantic's own English words for the rules
:mod:`handlers.polls.spec` enforces; nothing here prints.

Scalars are read the YAML 1.2 way: ``NO``, ``on`` or ``yes`` stay text (a unit code is
never turned into a boolean) and ``10:30`` is not a number of minutes.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_
from bot.matching import fold
from handlers.polls.spec import PollSpec
from storage.imports import parse_role
from storage.models import (
    Poll,
    PollRecipient,
    QuestionKind,
    Role,
    Unit,
)
from storage.units import subtree_bounds
from storage.uow import UnitOfWork

#: Where something is in the file: keys and 0-based list positions.
Where = tuple[str | int, ...]

FILE_KEYS = (
    "title",
    "intro",
    "unit",
    "units",
    "roles",
    "opens",
    "closes",
    "anonymous",
    "show_results",
    "questions",
)
QUESTION_KEYS = ("text", "kind", "options", "other", "required")
SUFFIXES = (".yaml", ".yml", ".json")

#: Question kinds as they may be written (folded: lower case, no diacritics).
KIND_WORDS: dict[str, QuestionKind] = {
    "single": QuestionKind.SINGLE,
    "mot lua chon": QuestionKind.SINGLE,
    "chon mot": QuestionKind.SINGLE,
    "multi": QuestionKind.MULTI,
    "multiple": QuestionKind.MULTI,
    "nhieu lua chon": QuestionKind.MULTI,
    "chon nhieu": QuestionKind.MULTI,
    "scale": QuestionKind.SCALE,
    "thang diem": QuestionKind.SCALE,
    "thang do": QuestionKind.SCALE,
    "text": QuestionKind.TEXT,
    "tu luan": QuestionKind.TEXT,
    "cau hoi mo": QuestionKind.TEXT,
}

_SPEC_FIELDS = {"opens_at": "opens", "closes_at": "closes"}
_LOCAL_TIME = re.compile(
    r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})"
    r"(?:\s+(?P<hour>\d{1,2})(?::(?P<minute>\d{2})|h(?P<minute_h>\d{2})?))?"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
END_OF_DAY = time(23, 59)

# Pydantic's generic complaints, in the catalogs; its other texts are shown as they are.
_PYDANTIC_KEYS = {
    "missing": N_("cli.polls.err.missing"),
    "string_type": N_("cli.polls.err.not_text"),
    "string_too_short": N_("cli.polls.err.empty"),
    "string_too_long": N_("cli.polls.err.too_long"),
    "too_short": N_("cli.polls.err.empty"),
    "too_long": N_("cli.polls.err.too_many"),
    "list_type": N_("cli.polls.err.not_list"),
    "bool_type": N_("cli.polls.err.not_bool"),
    "bool_parsing": N_("cli.polls.err.not_bool"),
}


# --- problems --------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where, and a catalog key (or pydantic's ``text``)."""

    where: Where
    key: str = ""
    params: Mapping[str, object] = field(default_factory=dict)
    text: str = ""  # pydantic's own words, when ``key`` is empty
    line: int | None = None

    @property
    def place(self) -> str:
        return place(self.where)


def place(where: Where) -> str:
    """``("questions", 1, "options")`` is written ``questions[2].options``."""
    out = ""
    for step in where:
        out += f"[{step + 1}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


class PollFileInvalid(Exception):
    """The file cannot make a poll; nothing was stored. ``problems`` are in file order."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.place))
        super().__init__(f"{source}: {len(self.problems)} problem(s)")


# --- YAML the way people mean it -------------------------------------------------------


class _FileLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars (see the module docstring)."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """A YAML date or time; an impossible one ("2026-13-45") stays text, to be reported."""
    assert isinstance(node, yaml.ScalarNode)
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return str(node.value)


_FileLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    ("float", r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$", "-+0123456789."),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    (
        "timestamp",
        r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
        r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$",
        "0123456789",
    ),
):
    _FileLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), _first)
_FileLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def _line_of(root: yaml.Node | None, where: Where) -> int | None:
    """The line (from 1) of the deepest part of ``where`` present in the file."""
    node, line = root, None
    for step in where:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            pair = next((kv for kv in node.value if kv[0].value == step), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                break
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _duplicate_keys(node: yaml.Node | None, where: Where = ()) -> list[Problem]:
    """YAML keeps the last of two equal keys silently; say so instead."""
    found: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                found.append(
                    Problem(
                        (*where, name),
                        N_("cli.polls.err.duplicate_key"),
                        {"first": seen[name]},
                        line=key.start_mark.line + 1,
                    )
                )
            seen.setdefault(name, key.start_mark.line + 1)
            found += _duplicate_keys(value, (*where, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, (*where, index))
    return found


# --- reading ---------------------------------------------------------------------------


@dataclass
class PollFile:
    """A checked file: the spec, and where each part of it was written."""

    source: str
    spec: PollSpec
    root: yaml.Node | None = None

    def problem(self, where: Where, key: str, **params: object) -> Problem:
        return Problem(where, key, params, line=_line_of(self.root, where))


def _parse(source: str, text: str, suffix: str) -> tuple[object, yaml.Node | None]:
    if suffix == ".json":
        try:
            return json.loads(text), None
        except json.JSONDecodeError as exc:
            problem = Problem((), N_("cli.polls.err.json"), {"error": exc.msg}, line=exc.lineno)
            raise PollFileInvalid(source, [problem]) from None
    loader = _FileLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        error = ": ".join(part for part in (exc.context, exc.problem) if part)
        problem = Problem(
            (), N_("cli.polls.err.yaml"), {"error": error}, line=mark.line + 1 if mark else None
        )
        raise PollFileInvalid(source, [problem]) from None
    except yaml.YAMLError as exc:
        problem = Problem((), N_("cli.polls.err.yaml"), {"error": exc})
        raise PollFileInvalid(source, [problem]) from None
    finally:
        loader.dispose()
    problems = _duplicate_keys(root)
    if problems:
        raise PollFileInvalid(source, problems)
    return data, root


def read_poll_file(path: Path, *, tz: tzinfo, now: datetime) -> PollFile:
    """Read and check ``path``; raise :class:`PollFileInvalid` with every problem found."""
    source = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        problem = Problem((), N_("cli.polls.err.suffix"), {"suffixes": ", ".join(SUFFIXES)})
        raise PollFileInvalid(source, [problem])
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise PollFileInvalid(
            source, [Problem((), N_("cli.import.file_missing"), {"file": str(path)})]
        ) from None
    except OSError as exc:
        raise PollFileInvalid(
            source,
            [Problem((), N_("cli.import.file_unreadable"), {"file": str(path), "error": exc})],
        ) from None
    except UnicodeDecodeError:
        raise PollFileInvalid(source, [Problem((), N_("cli.polls.err.encoding"))]) from None
    data, root = _parse(source, text, suffix)
    return _Checker(source, root, tz, now).check(data)


class _Checker:
    """Turns the file's data into a PollSpec, gathering problems on the way."""

    def __init__(self, source: str, root: yaml.Node | None, tz: tzinfo, now: datetime) -> None:
        self.source, self.root, self.tz, self.now = source, root, tz, now
        self.problems: list[Problem] = []
        # Parts whose other complaints would only be noise (a question of unknown kind).
        self.quiet: list[Where] = []

    def fail(self, where: Where, key: str, **params: object) -> None:
        self.problems.append(Problem(where, key, params, line=_line_of(self.root, where)))

    def check(self, data: object) -> PollFile:
        if not isinstance(data, dict):
            self.fail((), N_("cli.polls.err.not_mapping"))
            raise PollFileInvalid(self.source, self.problems)
        self._unknown_keys(data, (), FILE_KEYS)
        spec_data: dict[str, Any] = {
            name: data[name]
            for name in ("title", "intro", "anonymous", "show_results")
            if name in data and data[name] is not None
        }
        if "unit" in data:
            spec_data["unit"] = self._code(data["unit"], ("unit",))
        if data.get("units") is not None:
            spec_data["units"] = [
                self._code(code, ("units", i)) for i, code in enumerate(_listed(data["units"]))
            ]
        if data.get("roles") is not None:
            spec_data["roles"] = self._roles(data["roles"])
        for key, end_of_day in (("opens", False), ("closes", True)):
            if data.get(key) is not None:
                when = self._when(data[key], (key,), end_of_day=end_of_day)
                if when is not None:
                    spec_data[f"{key}_at"] = when
        closes = spec_data.get("closes_at")
        if closes is not None and closes <= self.now:
            self.fail(("closes",), N_("cli.polls.err.past"), when=_local(closes, self.tz))
        if "questions" in data:
            spec_data["questions"] = self._questions(data["questions"])
        try:
            spec = PollSpec.model_validate(spec_data)
        except ValidationError as exc:
            self._pydantic(exc)
            spec = None
        if self.problems or spec is None:
            raise PollFileInvalid(self.source, self.problems)
        return PollFile(self.source, spec, self.root)

    def _unknown_keys(self, data: dict[Any, Any], where: Where, known: Sequence[str]) -> None:
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                if close:
                    self.fail(
                        (*where, str(key)), N_("cli.polls.err.unknown_key_near"), near=close[0]
                    )
                else:
                    self.fail(
                        (*where, str(key)), N_("cli.polls.err.unknown_key"), known=", ".join(known)
                    )

    def _code(self, value: object, where: Where) -> str | None:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value).strip()
        self.fail(where, N_("cli.polls.err.not_code"))
        return None

    def _roles(self, value: object) -> list[Role]:
        roles = []
        for i, item in enumerate(_listed(value)):
            role = parse_role(item) if isinstance(item, str) else None
            if role is None:
                choices = ", ".join(r.value for r in Role)
                self.fail(("roles", i), N_("cli.polls.err.role"), role=item, choices=choices)
            else:
                roles.append(role)
        return roles

    def _when(self, value: object, where: Where, *, end_of_day: bool) -> datetime | None:
        found = _as_datetime(value, self.tz, END_OF_DAY if end_of_day else time(0, 0))
        if found is None:
            self.fail(where, N_("cli.polls.err.not_date"), value=value)
        return found

    def _questions(self, value: object) -> object:
        if not isinstance(value, list):
            return value  # pydantic says it should be a list
        questions: list[object] = []
        for i, item in enumerate(value):
            where: Where = ("questions", i)
            if not isinstance(item, dict):
                self.fail(where, N_("cli.polls.err.question_not_mapping"))
                questions.append({})
                continue
            self._unknown_keys(item, where, QUESTION_KEYS)
            question = {k: v for k, v in item.items() if k in QUESTION_KEYS and v is not None}
            if "kind" in question:
                kind = _kind(question["kind"])
                if kind is None:
                    self.fail((*where, "kind"), N_("cli.polls.err.kind"), kind=question["kind"])
                    self.quiet.append(where)
                    del question["kind"]
                else:
                    question["kind"] = kind
            if isinstance(question.get("options"), list):
                # "2", 3.5 and True are labels too; the spec wants text.
                question["options"] = [_label(o) for o in question["options"]]
            questions.append(question)
        return questions

    def _pydantic(self, exc: ValidationError) -> None:
        for error in exc.errors():
            where = _file_where(error["loc"], error.get("msg", ""))
            if any(_overlaps(where, p.where) for p in self.problems) or any(
                where[: len(q)] == q for q in self.quiet
            ):
                continue  # already said better
            kind = error["type"]
            ctx = error.get("ctx") or {}
            line = _line_of(self.root, where)
            if kind in _PYDANTIC_KEYS:
                params = {"max": ctx.get("max_length", ""), "min": ctx.get("min_length", "")}
                self.problems.append(Problem(where, _PYDANTIC_KEYS[kind], params, line=line))
            else:
                text = str(error.get("msg", "")).removeprefix("Value error, ")
                self.problems.append(Problem(where, text=text, line=line))


def _kind(value: object) -> QuestionKind | None:
    return KIND_WORDS.get(fold(value)) if isinstance(value, str) else None


def _label(value: object) -> object:
    """An option written as a number or a boolean is a label all the same."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


def _listed(value: object) -> list[Any]:
    """A list as written, or one item written alone (``units: AP-PT``)."""
    return value if isinstance(value, list) else [value]


def _overlaps(a: Where, b: Where) -> bool:
    return a[: len(b)] == b or b[: len(a)] == a


def _file_where(loc: Sequence[int | str], message: str) -> Where:
    """Pydantic's location in file terms; a question's own rule points at its options."""
    where: Where = tuple(_SPEC_FIELDS.get(s, s) if isinstance(s, str) else s for s in loc)
    if where == ():
        return ("closes",) if "deadline" in message else ()
    if len(where) == 2 and where[0] == "questions":
        if "'other'" in message:
            return (*where, "other")
        if "option" in message:
            return (*where, "options")
    return where


def _as_datetime(value: object, tz: tzinfo, default_time: time) -> datetime | None:
    """dd/mm/yyyy [HH:MM] text, ISO text, or a YAML date/datetime; naive means local."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, default_time, tzinfo=tz)
    if not isinstance(value, str):
        return None
    text = value.strip()
    local = _LOCAL_TIME.fullmatch(text)
    try:
        if local is not None:
            day = date(int(local["year"]), int(local["month"]), int(local["day"]))
            if local["hour"] is None:
                return datetime.combine(day, default_time, tzinfo=tz)
            minute = local["minute"] or local["minute_h"] or "0"
            return datetime.combine(day, time(int(local["hour"]), int(minute)), tzinfo=tz)
        if _ISO_DATE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), default_time, tzinfo=tz)
        if _ISO_DATE.match(text):
            return _as_datetime(datetime.fromisoformat(text), tz, default_time)
    except ValueError:
        return None
    return None


def _local(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%d/%m/%Y %H:%M")


# --- against the database --------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    owner: Unit
    units: list[Unit]


async def check_units(uow: UnitOfWork, poll_file: PollFile) -> Audience:
    """The owner and audience units, each existing and inside the owner's subtree."""
    spec = poll_file.spec
    problems: list[Problem] = []
    owner = await uow.units.by_code(spec.unit)
    if owner is None:
        problems.append(poll_file.problem(("unit",), N_("cli.polls.err.unit"), code=spec.unit))
    units: list[Unit] = []
    for i, code in enumerate(spec.units):
        unit = await uow.units.by_code(code)
        if unit is None:
            problems.append(poll_file.problem(("units", i), N_("cli.polls.err.unit"), code=code))
        elif owner is not None and not unit.path.startswith(owner.path):
            problems.append(
                poll_file.problem(
                    ("units", i),
                    N_("cli.polls.err.outside"),
                    code=code,
                    owner=owner.name,
                    owner_code=owner.code,
                )
            )
        else:
            units.append(unit)
    if problems:
        raise PollFileInvalid(poll_file.source, problems)
    assert owner is not None
    return Audience(owner, units or [owner])


@dataclass(frozen=True)
class PollLine:
    """A poll as ``doanbot polls list`` shows it."""

    poll: Poll
    unit_code: str
    targeted: int  # recipients (0 until it opens)
    answered: int


async def poll_lines(session: AsyncSession, top: Unit | None) -> list[PollLine]:
    """Every poll (owned by a unit in ``top``'s subtree), newest first, with its counts."""
    query = sa_select(Poll, col(Unit.code)).join(Unit, col(Unit.id) == Poll.unit_id)
    if top is not None:
        low, high = subtree_bounds(top.path)
        query = query.where(col(Unit.path) >= low, col(Unit.path) < high)
    rows = await session.execute(query.order_by(col(Poll.opens_at).desc(), col(Poll.id).desc()))
    polls = [(poll, str(code)) for poll, code in rows.all()]
    if not polls:
        return []
    counted = await session.execute(
        sa_select(
            col(PollRecipient.poll_id),
            func.count(),
            func.sum(case((col(PollRecipient.answered).is_(True), 1), else_=0)),
        )
        .where(col(PollRecipient.poll_id).in_([p.id for p, _ in polls]))
        .group_by(col(PollRecipient.poll_id))
    )
    counts = {int(pid): (int(n), int(a or 0)) for pid, n, a in counted.all()}
    return [PollLine(poll, code, *counts.get(poll.id or 0, (0, 0))) for poll, code in polls]
