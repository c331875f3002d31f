"""Builds the gateway application; start-up and shutdown live in one cleanup context."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import yaml
from aiohttp import web

from handoff.agent.analytics_api import setup_analytics_routes
from handoff.agent.api import setup_agent_routes
from handoff.agent.assist import KBAssist
from handoff.agent.labels import setup_label_routes
from handoff.agent.login_counters_redis import RedisLoginCounters
from handoff.agent.login_guard import LOGIN_GUARD, LoginGuard, LoginPolicy
from handoff.agent.passwords import PasswordHasher
from handoff.agent.search_api import setup_search_routes
from handoff.agent.supervisor_api import setup_supervisor_routes
from handoff.agent.tickets_api import setup_ticket_routes
from handoff.agent.topics_api import setup_topics_routes
from handoff.attachments.routes import setup_attachment_routes
from handoff.conversation.bot_relay import BotRelay
from handoff.conversation.coverage import load_coverage
from handoff.conversation.handoff_service import HandoffService
from handoff.conversation.rasa_client import RasaClient
from handoff.conversation.relay_coordination import LocalCoordination, RedisCoordination
from handoff.conversation.service import ConversationService
from handoff.customer.api import setup_customer_routes
from handoff.customer.popular import setup_popular_routes
from handoff.customer.suggestions import setup_suggestion_routes
from handoff.customer.texts import load_texts
from handoff.email.routes import setup_email_routes
from handoff.helpcentre.routes import setup_helpcentre_routes
from handoff.notices.routes import setup_notice_routes
from handoff.realtime.hub import Hub, Realtime
from handoff.realtime.redis_hub import RedisHub
from handoff.store.backends import open_stores, shared_redis
from handoff.store.errors import STORE_UNAVAILABLE
from handoff.store.interface import Store
from handoff.web.guard import install as install_web_guard
from handoff.web.http import MAX_BODY_BYTES, conversation_middleware, error_middleware
from handoff.web.metrics import Metrics
from handoff.web.ops_api import setup_ops_routes
from handoff.web.state import METRICS, SERVICE, SETTINGS, TEXTS
from kb_index.retriever import IndexReader
from stack.settings import Settings

log = logging.getLogger(__name__)


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    texts = app[TEXTS]
    # SQLite in var/ by default; PostgreSQL when ASSISTANT_DATABASE_URL is set (store/backends.py).
    # Sign-ins: scrypt off the event loop, throttled before any hashing (agent/login_guard.py).
    store, agents = await open_stores(
        settings, PasswordHasher(settings.login_hash_concurrency, settings.login_hash_queue)
    )
    session = aiohttp.ClientSession()
    # In-process for one gateway; over Redis when ASSISTANT_REDIS_URL is set, so that
    # gateways sharing it reach each other's websockets (realtime/redis_hub.py).
    redis_hub = RedisHub(settings.redis_url) if settings.redis_url else None
    if redis_hub is not None:
        await redis_hub.start()
    hub: Realtime = redis_hub if redis_hub is not None else Hub()
    # The relay's per-conversation lock and in-doubt sends: shared with the other
    # replicas through Redis when there is one (conversation/relay_coordination.py). A send that
    # timed out may still be running in Rasa: it is in doubt as long again.
    redis_client = shared_redis(settings, socket_timeout=5)
    coordination = (
        RedisCoordination(redis_client, settings.rasa_timeout_seconds)
        if redis_client is not None
        else LocalCoordination(settings.rasa_timeout_seconds)
    )
    rasa = RasaClient(
        session,
        settings.rasa_url,
        settings.action_url,
        settings.rasa_auth_token,
        settings.rasa_timeout_seconds,
        action_auth_token=settings.action_auth_token,
    )
    metrics = app[METRICS]
    # Sign-in counters: shared by the replicas in Redis when there is one.
    app[LOGIN_GUARD] = LoginGuard(
        LoginPolicy.from_settings(settings),
        agents,
        counters=RedisLoginCounters(redis_client) if redis_client is not None else None,
    )
    relay = BotRelay(
        store,
        rasa,
        hub,
        texts,
        settings.max_delivery_attempts,
        metrics,
        coordination=coordination,
    )
    handoff = HandoffService(
        store,
        agents,
        rasa,
        relay,
        hub,
        texts,
        yaml.safe_load(settings.handoff_config_path.read_text(encoding="utf-8")) or {},
        coverage=load_coverage(settings.coverage_path),
        assist=KBAssist(
            session,
            settings.action_url,
            settings.action_auth_token,
            settings.rasa_timeout_seconds,
        ),
        catalog=IndexReader(settings.kb_index_dir),
        metrics=metrics,
    )
    relay.on_handoff = handoff.escalate
    await handoff.refresh_agents()
    app[SERVICE] = ConversationService(
        store, relay, hub, texts, settings.max_message_chars, handoff
    )
    await store.refresh_statistics()
    background = [
        asyncio.create_task(_every(3600, store.refresh_statistics, "planner statistics", store)),
        # Messages kept while the bot was down (or before a gateway restart) are
        # answered from here once every part is back.
        asyncio.create_task(relay.run()),
        asyncio.create_task(_every(30, handoff.abandon_stale, "abandoned-chat sweep", store)),
        # Queue changes another gateway replica made reach this replica's sockets: as
        # they happen (over the hub), and by a periodic look in case that missed one.
        asyncio.create_task(handoff.follow_queue_changes()),
        asyncio.create_task(
            _every(settings.queue_resync_seconds, handoff.resync_queue, "queue resync", store)
        ),
        # New lines into the agents' search index, in batches (store/interface.py).
        asyncio.create_task(_every(1, store.index_search_text, "search index", store)),
    ]
    yield
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)
    await handoff.aclose()
    if redis_hub is not None:
        await redis_hub.aclose()
    else:
        hub.close_all()
    if redis_client is not None:
        await redis_client.aclose()
    await session.close()
    await store.close()
    agents.hasher.close()


async def _every(
    seconds: float, job: Callable[[], Awaitable[object]], name: str, store: Store
) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except STORE_UNAVAILABLE as exc:
            log.warning("%s waits for the store (%s)", name, type(exc).__name__)
            await store.forget_connections()
        except Exception:
            log.exception("%s failed", name)


def create_app(settings: Settings) -> web.Application:
    """The gateway. Raises TextsError if data/gateway_texts.yml is broken, NoticesError if
    data/notices.yml is."""
    app = web.Application(
        middlewares=[conversation_middleware, error_middleware], client_max_size=MAX_BODY_BYTES
    )
    app[SETTINGS] = settings
    app[TEXTS] = load_texts(settings.gateway_texts_path)
    app[METRICS] = Metrics()
    install_web_guard(app, settings)  # headers, Origin allowlist, customer rate limits
    app.cleanup_ctx.append(_lifecycle)
    setup_ops_routes(app)  # health, readiness, metrics, OpenAPI, static files
    setup_customer_routes(app)
    setup_agent_routes(app)
    setup_search_routes(app)  # conversations and tickets by text, days and state
    setup_ticket_routes(app)  # offline tickets: claim, reply, release, close
    setup_label_routes(app)  # loads data/labels.yml: a broken list stops the start here
    setup_analytics_routes(app)
    setup_supervisor_routes(app)  # after the service exists: its live feed listens to it
    setup_topics_routes(app)  # unanswered topics, from the action server
    setup_helpcentre_routes(app)  # /help: articles and search for customers
    setup_suggestion_routes(app)  # articles matching what a customer types
    setup_popular_routes(app)  # what the widget offers when it opens
    setup_notice_routes(app)  # outages and maintenance: banner, greeting, answers
    setup_attachment_routes(app)  # images and PDFs in a conversation, both sides
    setup_email_routes(app)  # ticket replies by SMTP, customers' replies back in (if on)
    return app
