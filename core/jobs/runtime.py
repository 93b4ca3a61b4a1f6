"""The runtime installed in a worker process, read by actors."""

from __future__ import annotations

from core.runtime import Runtime

_installed: Runtime | None = None


def install_runtime(runtime: Runtime) -> None:
    global _installed
    _installed = runtime


def current_runtime() -> Runtime:
    if _installed is None:
        raise RuntimeError("no runtime installed in this process (JobSystem.start)")
    return _installed
