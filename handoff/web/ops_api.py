"""Routes for operators and API clients: liveness, readiness, Prometheus metrics, the
OpenAPI document; and the static files of widget and console."""

from __future__ import annotations

from aiohttp import web

from handoff.web.http import STATIC_DIR
from handoff.web.openapi import openapi_document
from handoff.web.state import METRICS, SERVICE

routes = web.RouteTableDef()


@routes.get("/api/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """Liveness: the gateway process serves requests (whatever else is down)."""
    return web.json_response({"status": "alive"})


@routes.get("/metrics")
async def prometheus_metrics(request: web.Request) -> web.Response:
    """Prometheus text format (handoff/web/metrics.py names every series)."""
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": request.app[METRICS].content_type})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    """Readiness: the store, Rasa and the action server all answer; `down` names the
    parts that do not. While one is down the gateway still keeps every message."""
    service = request.app[SERVICE]
    parts: dict[str, str] = {"gateway": "up"}
    try:
        await service.store.ping()
        parts["store"] = "up"
    except Exception as exc:
        parts["store"] = f"down: {exc.__class__.__name__}"
    parts.update(await service.relay.rasa.parts_health())
    down = [name for name, status in parts.items() if status != "up"]
    body = {"status": "down" if down else "ok", "parts": parts, "down": down}
    return web.json_response(body, status=503 if down else 200)


def setup_ops_routes(app: web.Application) -> None:
    app.add_routes(routes)
    # Widget and console files (handoff/static/), shared by every room.
    app.router.add_static("/static/", STATIC_DIR, show_index=False)
