"""`POST /api/conversations/{conversation_id}/email-answer`: the customer (their bearer
token, as on every customer route) has one of the bot's KB answers mailed to an address
(answers.py says what the mail holds).

202 `{"queued": true, "to": "a…@example.com"}` once it is in the outbox; 404 `email_off`
while email is not set up (the widget then offers no button: `email_answers` in the
conversation's GET), 404 `not_found` for a seq that is not a bot answer of this
conversation; 400 naming the field for a body its model refuses (request_models.py:
an address with CR/LF, spaces, commas, no @ or no dotted domain, over 254 characters);
429 with Retry-After beyond Settings.email_answers_per_10_minutes per conversation.
"""

from __future__ import annotations

from aiohttp import web

from handoff.customer.api import authorized_conversation
from handoff.email.answers import AnswerMailer, mask_address
from handoff.store.backends import shared_redis
from handoff.web.http import bearer_token, json_error, read_model, too_many_requests
from handoff.web.rate_limit import LocalRateLimiter, RateLimiter
from handoff.web.rate_limit_redis import RedisRateLimiter
from handoff.web.request_models import EmailAnswerRequest
from handoff.web.state import SETTINGS

ANSWER_MAILER = web.AppKey("answer_mailer", AnswerMailer)
EMAIL_ANSWER_LIMIT = web.AppKey("email_answer_limit", RateLimiter)
PERIOD_SECONDS = 600.0
_SLOW_DOWN = "too many answers emailed from this conversation: try again later"

routes = web.RouteTableDef()


@routes.post("/api/conversations/{conversation_id}/email-answer")
async def email_answer(request: web.Request) -> web.Response:
    token = bearer_token(request)
    mailer = request.app.get(ANSWER_MAILER)
    if mailer is None:
        return json_error(404, "email_off", "email is not set up on this gateway")
    # As for messages: a flood is refused before the store is read, counted once the
    # token and the body are good (nobody spends another conversation's budget).
    limiter = request.app[EMAIL_ANSWER_LIMIT]
    if wait := await limiter.wait(request.match_info["conversation_id"]):
        return too_many_requests(wait, _SLOW_DOWN)
    conversation = await authorized_conversation(request, token)
    asked = await read_model(request, EmailAnswerRequest)
    if wait := await limiter.hit(conversation.id):
        return too_many_requests(wait, _SLOW_DOWN)
    if not await mailer.queue(conversation, asked.seq, asked.email):
        return json_error(
            404, "not_found", "there is no answer of the bot with this seq in this conversation"
        )
    return web.json_response({"queued": True, "to": mask_address(asked.email)}, status=202)


def email_answer_limiter(app: web.Application) -> RateLimiter:
    """Answers mailed per conversation per 10 minutes: in Redis when replicas share one."""
    settings = app[SETTINGS]
    limit = settings.email_answers_per_10_minutes
    # Email off: the route answers 404 before counting anything; no Redis client for it.
    redis_client = shared_redis(settings, socket_timeout=2) if settings.smtp_host else None
    if redis_client is None:
        return LocalRateLimiter(limit, PERIOD_SECONDS)

    async def close_redis(_: web.Application) -> None:
        await redis_client.aclose()

    app.on_cleanup.append(close_redis)
    return RedisRateLimiter(redis_client, "email-answers", limit, PERIOD_SECONDS)


def setup_answer_route(app: web.Application) -> None:
    app[EMAIL_ANSWER_LIMIT] = email_answer_limiter(app)
    app.router.add_routes(routes)
