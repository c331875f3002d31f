"""Typed keys for what the aiohttp application holds."""

from __future__ import annotations

from aiohttp import web

from handoff.conversation.service import ConversationService
from handoff.customer.texts import GatewayTexts
from handoff.web.metrics import Metrics
from handoff.web.rate_limit import CustomerLimits
from stack.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
TEXTS = web.AppKey("texts", GatewayTexts)
SERVICE = web.AppKey("service", ConversationService)
METRICS = web.AppKey("metrics", Metrics)
LIMITS = web.AppKey("limits", CustomerLimits)
