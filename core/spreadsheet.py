"""CSV files that French spreadsheets open as they are: UTF-8 with a byte-order mark, ``;``, CRLF."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

BOM = "\ufeff"


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[str]]) -> bytes:
    """The header and rows (cells already written as text) as one CSV file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(header))
    writer.writerows(list(row) for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")
