"""Valid declarations to start tests from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.identity.nir import nir_key


def nir(first13: str = "2420240192123") -> str:
    """A NIR with a correct key (fictional)."""
    return first13 + f"{nir_key(first13):02d}"


def discharge(
    *,
    birth_date: str = "1942-02-14",
    lives_alone: bool | None = True,
    ins: str | None = None,
    occurred_at: str | None = None,
    **person: Any,
) -> dict[str, Any]:
    occurred = occurred_at or (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    return {
        "type": "hospital_discharge",
        "occurred_at": occurred,
        "person": {
            "ins": ins or nir(),
            "family_name": "Lafitte",
            "given_names": "Jeanne",
            "birth_date": birth_date,
            "commune_insee": "40192",
            "lives_alone": lives_alone,
            **person,
        },
        "details": {"ward": "Médecine gériatrique"},
    }
