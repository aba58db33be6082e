"""Leases of the periodic jobs: one row per job, saying who runs it now and when it is
due next, so that a job runs on one process at a time across every node
(events/jobs/lease.py)."""

from __future__ import annotations

from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from events.models.base import Base


class JobLease(Base):
    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(String(60), unique=True)
    #: Who took the lease last (host, process, a random part per run).
    holder: Mapped[str] = mapped_column(String(120))
    #: The holder's lease ends then unless renewed; set to the end of the run on release.
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    #: The job runs again once this has passed (and no one holds the lease).
    due_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
