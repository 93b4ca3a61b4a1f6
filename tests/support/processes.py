"""Run the real ``parcours`` command in a subprocess against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]
PARCOURS = str(Path(sys.executable).parent / "parcours")


def command_env(settings: Settings, *, share_broker: bool = True, **extra: str) -> dict[str, str]:
    """Environment pointing a ``parcours`` process at the test session's database.

    On the embedded default it names the same data directory (the command
    joins the running server); with a server it names the test database.
    ``share_broker=False`` keeps the process on its own in-memory broker, so the
    test session's worker cannot take its jobs.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARCOURS_")}
    env["PYTHONPATH"] = str(ROOT)
    env["PARCOURS_DATA_DIR"] = str(settings.data_dir)
    assert settings.master_key is not None
    env["PARCOURS_MASTER_KEY"] = settings.master_key.get_secret_value()
    if os.environ.get("PARCOURS_DATABASE_URL"):
        assert settings.database_url is not None
        env["PARCOURS_DATABASE_URL"] = settings.database_url
    if settings.broker_url and share_broker:
        env["PARCOURS_BROKER_URL"] = settings.broker_url
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``parcours run`` in its own process group."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [PARCOURS, "run", "--host", "127.0.0.1", "--port", str(self.port), *args],
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"parcours run exited with {self.process.returncode}")
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("parcours run did not become healthy")

    def kill(self) -> None:
        """SIGKILL the server process only (not the database it joined)."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, timeout: float = 20) -> int:
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self._log.close()
