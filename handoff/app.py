"""Builds the gateway application; start-up and shutdown live in one cleanup context."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from handoff.api import MAX_BODY_BYTES, error_middleware, setup_routes
from handoff.hub import Hub
from handoff.rasa_client import RasaClient
from handoff.service import ConversationService
from handoff.state import SERVICE, SETTINGS
from handoff.store import SQLiteStore
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
    app[SERVICE] = ConversationService(store, rasa, hub, settings.max_message_chars)
    yield
    hub.close_all()
    await session.close()
    await store.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_lifecycle)
    setup_routes(app)
    return app
