"""The readmission watch: for each discharge, a check at D+7 and one at D+30."""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Timestamptz
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from core.db.engine import DB
from core.events.tables import Event
from core.identity.tables import Person


class ReadmissionCheck(Table, db=DB, tablename="readmission_check"):
    """Did the person come back to hospital (admission or emergency visit) within N days of a discharge?"""

    id = UUID(primary_key=True)
    tenant_id = UUID(null=False)
    discharge_event = ForeignKey(
        Event, null=False, on_delete=OnDelete.restrict, db_column_name="discharge_event_id"
    )
    person = ForeignKey(Person, null=False, on_delete=OnDelete.restrict, db_column_name="person_id")
    horizon_days = Integer(null=False)
    due_at = Timestamptz(null=False)
    checked_at = Timestamptz(null=True, default=None)
    readmitted = Boolean(null=True, default=None)
    readmission_event = ForeignKey(
        Event, null=True, on_delete=OnDelete.restrict, db_column_name="readmission_event_id"
    )
