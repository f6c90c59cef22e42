"""A small sample province for the demo and the tests (fictional names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Role, Unit
from storage.uow import UnitOfWork

SAMPLE_UNITS = [
    # code, name, kind, parent code
    ("AP", "Tỉnh đoàn An Phú", "province", None),
    ("AP-PT", "Đoàn xã Phú Thịnh", "grassroots", "AP"),
    ("AP-PT-A1", "Chi đoàn ấp 1", "branch", "AP-PT"),
    ("AP-PT-A2", "Chi đoàn ấp 2", "branch", "AP-PT"),
    ("AP-THPT", "Đoàn trường THPT An Phú", "grassroots", "AP"),
    ("AP-THPT-12A1", "Chi đoàn 12A1", "branch", "AP-THPT"),
    ("AP-CQ", "Chi đoàn cơ quan Tỉnh đoàn", "branch", "AP"),
]

SAMPLE_INVITES = [
    ("AP-PT-A1", Role.MEMBER),
    ("AP-PT-A1", Role.SECRETARY),
    ("AP-PT-A2", Role.MEMBER),
    ("AP-THPT-12A1", Role.MEMBER),
    ("AP-CQ", Role.CADRE),
    ("AP", Role.STANDING),
]


@dataclass(frozen=True)
class SampleInvite:
    unit_code: str
    unit_name: str
    role: str
    code: str


async def seed_sample_province(uow: UnitOfWork, now: datetime) -> list[SampleInvite]:
    """Create the sample units (if missing) and fresh multi-use invites for them."""
    units: dict[str, Unit] = {}
    for code, name, kind, parent_code in SAMPLE_UNITS:
        unit = await uow.units.by_code(code)
        if unit is None:
            parent = units[parent_code] if parent_code else None
            unit = await uow.units.add(code, name, kind, parent)
        units[code] = unit
    invites = []
    for unit_code, role in SAMPLE_INVITES:
        unit = units[unit_code]
        assert unit.id is not None
        invite = await uow.invites.create(
            unit_id=unit.id, role=role, now=now, valid_for=timedelta(days=30), max_uses=50
        )
        invites.append(SampleInvite(unit_code, unit.name, role, invite.code))
    uow.audit.record("sample.seeded", "unit", None, actor="cli", invites=len(invites))
    return invites
