"""Start and stop the job machinery of one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import dramatiq
from dramatiq.asyncio import get_event_loop_thread

from core.db.engine import DB
from core.jobs.broker import make_broker
from core.jobs.runtime import install_runtime
from core.outbox.service import Dispatch, claim_stale
from core.runtime import Runtime
from core.tenancy.service import list_tenants

log = logging.getLogger(__name__)


class JobSystem:
    """The broker, optionally an in-process worker, the outbox dispatcher and the periodic watch."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.broker: dramatiq.Broker | None = None
        self.worker: dramatiq.Worker | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None
        self._watch_stopping = asyncio.Event()

    def start(self, *, with_worker: bool) -> None:
        install_runtime(self.runtime)
        self.broker = make_broker(self.runtime.settings)
        dramatiq.set_broker(self.broker)
        from core.jobs import actors

        # Actors bind to the broker current when first imported; rebind them
        # if this process started a job system before (tests, restarts).
        actors.process_outbox_message.broker = self.broker
        self.broker.declare_actor(actors.process_outbox_message)
        actors.watch_tick.broker = self.broker
        self.broker.declare_actor(actors.watch_tick)
        if with_worker:
            self.worker = dramatiq.Worker(self.broker, worker_threads=self.runtime.settings.worker_threads)
            self.worker.start()

    def send(self, dispatch: Dispatch) -> None:
        """Hand one outbox message to the workers (best effort: the outbox keeps it)."""
        from core.jobs.actors import process_outbox_message

        try:
            process_outbox_message.send(str(dispatch.tenant_id), str(dispatch.message_id))
        except Exception:  # the dispatcher will send it again
            log.exception("could not enqueue outbox message %s", dispatch.message_id)

    async def dispatch_stale(self, older_than_seconds: float | None = None) -> int:
        """Send every pending message not dispatched recently; return how many."""
        if older_than_seconds is None:
            older_than_seconds = self.runtime.settings.outbox_redispatch_seconds
        sent = 0
        for tenant in await list_tenants():
            for dispatch in await claim_stale(tenant.id, older_than_seconds):
                self.send(dispatch)
                sent += 1
        return sent

    def start_dispatcher(self) -> None:
        """Run :meth:`dispatch_stale` periodically on the current event loop."""
        self._stopping = asyncio.Event()
        self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch_forever())

    async def _dispatch_forever(self) -> None:
        # The first pass takes every pending message: whoever dispatched them
        # before this process started may have died with them.
        older_than: float | None = 0.0
        while not self._stopping.is_set():
            try:
                await self.dispatch_stale(older_than)
                older_than = None
            except Exception:
                log.exception("outbox dispatcher pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.runtime.settings.outbox_poll_seconds)

    async def stop_dispatcher(self, grace_seconds: float = 10.0) -> None:
        """Let the current pass finish (no cancellation mid-transaction), then stop."""
        if self._dispatcher is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._dispatcher), grace_seconds)
        except TimeoutError:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        self._dispatcher = None

    async def send_watch_ticks(self) -> int:
        """Ask the workers to watch every territory (one message each); return how many were sent."""
        from core.jobs.actors import watch_tick

        sent = 0
        for tenant in await list_tenants():
            try:
                watch_tick.send(str(tenant.id))
                sent += 1
            except Exception:  # the next tick sends it again
                log.exception("could not enqueue the watch of territory %s", tenant.slug)
        return sent

    def start_watch(self) -> None:
        """Run :meth:`send_watch_ticks` every ``watch_seconds`` on the current event loop.

        The first tick comes one interval after the start. Every process may run it: the watch is
        idempotent and safe to run concurrently.
        """
        self._watch_stopping = asyncio.Event()
        self._watch = asyncio.get_running_loop().create_task(self._watch_forever())

    async def _watch_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._watch_stopping.wait(), self.runtime.settings.watch_seconds)
            if self._watch_stopping.is_set():
                return
            try:
                await self.send_watch_ticks()
            except Exception:
                log.exception("watch tick failed")

    async def stop_watch(self, grace_seconds: float = 10.0) -> None:
        """Let the current tick finish, then stop."""
        if self._watch is None:
            return
        self._watch_stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._watch), grace_seconds)
        except TimeoutError:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        self._watch = None

    def stop(self) -> None:
        if self.worker is not None:
            loop_thread = get_event_loop_thread()
            if loop_thread is not None:
                with contextlib.suppress(Exception):
                    loop_thread.run_coroutine(DB.close_pool())
            self.worker.stop(timeout=5_000)
            self.worker = None
        if self.broker is not None:
            self.broker.close()
            self.broker = None

    def join(self, timeout_ms: int = 10_000) -> None:
        """Wait until the queue is empty and the worker idle (tests, demo seeding)."""
        from core.jobs.actors import QUEUE

        assert self.broker is not None
        self.broker.join(QUEUE, timeout=timeout_ms)
        if self.worker is not None:
            self.worker.join()
