"""The gateway: the customers' front door and the agents' desk.

It owns each conversation's state, persists every message before acknowledging it, and
relays customer messages to Rasa while the bot owns the conversation and to the agents
otherwise. One room per concern:

    customer/       what customers reach: their HTTP API and websocket, identity, the
                    gateway's own texts in their language
    agent/          what agents and supervisors reach: the console's API and websocket,
                    sign-in, suggestions, the live view, analytics and topics
    conversation/   the domain: the state machine, the one service that owns a
                    conversation's transitions, the queue, business hours, the bot relay
    store/          where it is kept: the interface, SQLite and PostgreSQL, migrations
    realtime/       fan-out of frames to open websockets: in-process, or over Redis
    web/            the application and its edge: app factory, middleware, limits,
                    security headers, request models, the OpenAPI document, metrics
    static/         the browser side: widget and console pages, scripts, styles
"""
