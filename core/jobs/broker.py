"""Choose the dramatiq broker from the settings.

``PARCOURS_BROKER_URL`` unset: an in-memory broker and an in-process worker
(durability comes from the outbox, not the broker). ``redis://…`` or
``amqp://…``: a real broker shared with ``parcours worker`` processes.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from core.config import Settings


def make_broker(settings: Settings) -> dramatiq.Broker:
    url = settings.broker_url
    broker: dramatiq.Broker
    if url is None:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url)
    else:
        raise ValueError("PARCOURS_BROKER_URL must start with redis:// or amqp://")
    broker.add_middleware(AsyncIO())
    return broker
