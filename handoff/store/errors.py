"""What a store raises while its server is away (PostgreSQL restarting, the network):
not a bug, a wait. The gateway answers 503 with Retry-After and logs one line, and its
background jobs try again; asyncpg's pool reconnects by itself once the server is back
(Store.forget_connections hurries it). Its own module so that any part of the gateway
can tell a wait from a bug without importing the stores."""

from __future__ import annotations

import asyncpg

STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # the connection broke, or was refused
    asyncpg.OperatorInterventionError,  # shutting down, starting up, crashed
    asyncpg.InterfaceError,  # a connection the pool had closed under it
    asyncpg.InternalClientError,  # a connection left mid-operation when the server went
    asyncpg.TooManyConnectionsError,
    ConnectionError,  # refused or reset before PostgreSQL said anything
)
