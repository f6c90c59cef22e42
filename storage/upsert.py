"""INSERT ... ON CONFLICT DO NOTHING for both dialects."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession


async def insert_ignore(
    session: AsyncSession, model: Any, values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert one row unless it clashes on ``conflict`` columns. True when inserted."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_ignore_many(
    session: AsyncSession,
    model: Any,
    rows: list[dict[str, Any]],
    conflict: list[str],
    *,
    batch: int = 5000,
) -> int:
    """Insert many rows, skipping clashes on ``conflict``; returns the rows added.

    The statement is compiled once and the rows go as parameter sets (executemany),
    which is many times faster than a fresh multi-row VALUES per chunk. The returned
    keys count what was really added: rowcount is not reliable for batched inserts.
    """
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    table = model.__table__
    stmt = (
        module.insert(table)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c[conflict[0]])
    )
    added = 0
    for start in range(0, len(rows), batch):
        result = await session.execute(stmt, rows[start : start + batch])
        added += len(result.all())
    return added
