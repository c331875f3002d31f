"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web

from handoff.metrics import Metrics
from handoff.rate_limit import CustomerLimits
from handoff.service import ConversationService
from handoff.texts import GatewayTexts
from stack.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
TEXTS = web.AppKey("texts", GatewayTexts)
SERVICE = web.AppKey("service", ConversationService)
METRICS = web.AppKey("metrics", Metrics)
LIMITS = web.AppKey("limits", CustomerLimits)
