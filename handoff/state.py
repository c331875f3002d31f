"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web

from handoff.service import ConversationService
from stack.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
SERVICE = web.AppKey("service", ConversationService)
