"""A synthetic province for the "1+2" benchmark (``bench/visits.py``), bulk-inserted.

A province union with 20 offices, where ``cadres`` full-time cadres work, and 60
grassroots units they visit. Each cadre logs about ``days`` days over 2026 (between
half and one and a half times that): single days and short spans of activities,
meetings, inspections and trainings, and up to two 5–7-day thematic trips with their
trip rows (80% of the reports filed, on time or late). 8% of the entries are pending,
rejected or withdrawn, and entries overlap at random, so some days are logged twice;
5% of the cadres are exempt. Explicit ids and Core ``INSERT`` executemany on a fresh
database: a second or two for 40,000 day rows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bench.province import bulk_insert
from storage.db import Database
from storage.models import (
    FieldCadre,
    FieldVisit,
    FieldVisitDay,
    Person,
    ThematicTrip,
    Unit,
    VisitExemption,
)
from storage.types import utcnow

YEAR = 2026
CODE = "BENCH"
OFFICES, GRASSROOTS = 20, 60
KINDS = ("activity", "activity", "meeting", "meeting", "inspection", "training", "other")
STATUSES = ("counted",) * 92 + ("pending",) * 4 + ("rejected",) * 2 + ("withdrawn",) * 2
REASONS = ("accounting_or_clerical", "long_service", "serious_illness", "party_work", "other")


@dataclass
class Province:
    """What :func:`make_province` built."""

    cadres: int = 0
    visits: int = 0
    day_rows: int = 0
    trips: int = 0
    exemptions: int = 0


def _entries(rng: random.Random, days: int) -> list[tuple[str, list[date]]]:
    """One cadre's entries over the year: (kind, days), about ``days`` days in all."""
    first = date(YEAR, 1, 1)
    entries: list[tuple[str, list[date]]] = []
    for n in range(2 if rng.random() < 0.7 else rng.choice((0, 1))):
        start = first + timedelta(days=rng.randrange(30 + 150 * n, 150 + 150 * n))
        length = rng.randint(5, 7)
        entries.append(("trip", [start + timedelta(days=i) for i in range(length)]))
    while sum(len(d) for _, d in entries) < days:
        start = first + timedelta(days=rng.randrange(365))
        length = rng.choice((1, 1, 1, 1, 2, 2, 3))
        entries.append((rng.choice(KINDS), [start + timedelta(days=i) for i in range(length)]))
    return entries


async def make_province(db: Database, cadres: int, days: int, seed: int) -> Province:
    """Fill an empty, migrated database; explicit ids, bulk Core inserts."""
    rng = random.Random(seed)
    now = utcnow()
    units = [_unit(1, CODE, "Tỉnh đoàn Bench", "province", None, "/1/", 0, now)]
    for i in range(OFFICES):
        uid = 2 + i
        units.append(
            _unit(uid, f"{CODE}-O{i:02d}", f"Ban {i + 1}", "office", 1, f"/1/{uid}/", 1, now)
        )
    visited = list(range(2 + OFFICES, 2 + OFFICES + GRASSROOTS))
    for uid in visited:
        units.append(
            _unit(uid, f"{CODE}-G{uid}", f"Đoàn xã {uid}", "grassroots", 1, f"/1/{uid}/", 1, now)
        )
    people, field_cadres, visits, day_rows, trips, exemptions = [], [], [], [], [], []
    for pid in range(1, cadres + 1):
        people.append(
            {
                "id": pid,
                "full_name": f"Cán bộ {pid:04d}",
                "locale": "vi",
                "status": "active",
                "mute_reminders": False,
                "created_at": now,
            }
        )
        field_cadres.append(
            {"person_id": pid, "unit_id": 2 + pid % OFFICES, "active": True, "added_at": now}
        )
        if rng.random() < 0.05:
            exemptions.append(
                {
                    "id": len(exemptions) + 1,
                    "person_id": pid,
                    "reason": rng.choice(REASONS),
                    "starts_on": date(YEAR - 3, 1, 1),
                    "ends_on": None,
                    "created_at": now,
                }
            )
        for kind, span in _entries(rng, rng.randint(days // 2, days * 3 // 2)):
            trip_id = None
            if kind == "trip":
                trip_id = len(trips) + 1
                filed = span[-1] + timedelta(days=rng.randint(1, 14))
                trips.append(
                    {
                        "id": trip_id,
                        "person_id": pid,
                        "unit_id": rng.choice(visited),
                        "theme": "Chuyển đổi số",
                        "starts_on": span[0],
                        "ends_on": span[-1],
                        "report_filed_at": now.replace(
                            year=filed.year, month=filed.month, day=filed.day
                        )
                        if rng.random() < 0.8
                        else None,
                        "reminders_done": [],
                        "created_at": now,
                    }
                )
            vid = len(visits) + 1
            visits.append(
                {
                    "id": vid,
                    "person_id": pid,
                    "unit_id": rng.choice(visited),
                    "kind": kind,
                    "note": "Phối hợp tổ chức hoạt động" if rng.random() < 0.3 else None,
                    "trip_id": trip_id,
                    "status": rng.choice(STATUSES),
                    "first_day": span[0],
                    "last_day": span[-1],
                    "logged_at": now,
                }
            )
            day_rows += [{"visit_id": vid, "day": d, "person_id": pid} for d in span]
    await bulk_insert(db, Unit, units)
    await bulk_insert(db, Person, people)
    await bulk_insert(db, FieldCadre, field_cadres)
    await bulk_insert(db, VisitExemption, exemptions)
    await bulk_insert(db, ThematicTrip, trips)
    await bulk_insert(db, FieldVisit, visits)
    await bulk_insert(db, FieldVisitDay, day_rows)
    return Province(cadres, len(visits), len(day_rows), len(trips), len(exemptions))


def _unit(
    uid: int, code: str, name: str, kind: str, parent: int | None, path: str, depth: int, now: Any
) -> dict[str, Any]:
    return {
        "id": uid,
        "code": code,
        "name": name,
        "kind": kind,
        "parent_id": parent,
        "path": path,
        "depth": depth,
        "settings": {},
        "created_at": now,
    }
