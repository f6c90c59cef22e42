"""The unit tree. A unit's path lists its ancestors' ids: "/1/4/9/"; a subtree is a range."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Unit


def subtree_bounds(path: str) -> tuple[str, str]:
    """All paths starting with ``path`` lie in [path, path-with-last-'/'-bumped)."""
    return path, path[:-1] + chr(ord("/") + 1)


class UnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, unit_id: int) -> Unit | None:
        return await self.session.get(Unit, unit_id)

    async def by_code(self, code: str) -> Unit | None:
        result = await self.session.exec(select(Unit).where(Unit.code == code))
        return result.first()

    async def all(self) -> Sequence[Unit]:
        result = await self.session.exec(select(Unit).order_by(Unit.path))
        return result.all()

    async def add(self, code: str, name: str, kind: str, parent: Unit | None) -> Unit:
        unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None)
        self.session.add(unit)
        await self.session.flush()
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        unit.depth = parent.depth + 1 if parent else 0
        await self.session.flush()
        return unit

    async def move(self, unit: Unit, new_parent: Unit | None) -> None:
        """Re-hang ``unit`` (and its subtree) under ``new_parent``; refuses to make a cycle."""
        if new_parent is not None and new_parent.path.startswith(unit.path):
            raise ValueError(f"moving {unit.code} under {new_parent.code} would make a cycle")
        await self.session.flush()
        old_path = unit.path
        new_path = f"{new_parent.path if new_parent else '/'}{unit.id}/"
        depth_shift = (new_parent.depth + 1 if new_parent else 0) - unit.depth
        low, high = subtree_bounds(old_path)
        await self.session.execute(
            update(Unit)
            .where(col(Unit.path) >= low, col(Unit.path) < high)
            .values(
                path=literal(new_path) + func.substr(Unit.path, len(old_path) + 1),
                depth=Unit.depth + depth_shift,
            )
            .execution_options(synchronize_session=False)
        )
        unit.parent_id = new_parent.id if new_parent else None
        await self.session.flush()
        # The bulk UPDATE bypassed the session: reload every loaded unit of the moved subtree.
        for obj in list(self.session.identity_map.values()):
            if isinstance(obj, Unit) and (obj is unit or obj.path.startswith(old_path)):
                await self.session.refresh(obj)

    async def subtree(self, unit: Unit) -> Sequence[Unit]:
        """The unit and everything under it, in tree order: one indexed range query."""
        low, high = subtree_bounds(unit.path)
        result = await self.session.exec(
            select(Unit).where(col(Unit.path) >= low, col(Unit.path) < high).order_by(Unit.path)
        )
        return result.all()

    async def ancestors(self, unit: Unit) -> Sequence[Unit]:
        """From the root down to the unit's parent."""
        ids = [int(part) for part in unit.path.strip("/").split("/")[:-1]]
        if not ids:
            return []
        result = await self.session.exec(select(Unit).where(col(Unit.id).in_(ids)))
        return sorted(result.all(), key=lambda u: u.depth)
