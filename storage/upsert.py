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
    """Insert many rows in a few statements, skipping clashes on ``conflict``; rows added."""
    if not rows:
        return 0
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    module: Any = postgresql if dialect == "postgresql" else sqlite
    # SQLite allows 32766 bound parameters per statement; PostgreSQL 65535.
    per_statement = max(1, min(batch, 30000 // max(1, len(rows[0]))))
    added = 0
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        stmt = module.insert(model).values(chunk).on_conflict_do_nothing(index_elements=conflict)
        result = await session.execute(stmt)
        added += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return added
