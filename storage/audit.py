"""The audit log: who changed what."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        action: str,
        entity: str,
        entity_id: object = None,
        *,
        actor_person_id: int | None = None,
        actor: str = "bot",
        **details: Any,
    ) -> None:
        self.session.add(
            AuditEntry(
                action=action,
                entity=entity,
                entity_id=None if entity_id is None else str(entity_id),
                actor_person_id=actor_person_id,
                actor=actor,
                details=details,
            )
        )
