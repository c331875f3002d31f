"""The gateway's public HTTP API as an OpenAPI 3 document (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed or invalid body; the message says what is wrong",
        401: "No bearer token",
        403: "The token does not open this conversation",
        413: "Body larger than 64 KiB",
    }
    return {str(code): _json(_ERROR, reasons[code]) for code in codes}


def openapi_document() -> dict[str, Any]:
    conversation_id = {
        "name": "conversation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Support assistant gateway",
            "version": "1.0.0",
            "description": "Customer side of the gateway: start a conversation, send messages, "
            "read the transcript. The widget uses the websocket at "
            "/api/conversations/{conversation_id}/ws (first frame: "
            '{"type": "hello", "token": "...", "last_seq": 0}).',
        },
        "components": {
            "securitySchemes": {"conversationToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Button": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "payload": {"type": "string"}},
                },
                "Link": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "url": {"type": "string"}},
                },
                "Message": {
                    "type": "object",
                    "required": ["seq", "role", "text", "ts"],
                    "properties": {
                        "seq": {"type": "integer"},
                        "role": {"type": "string", "enum": ["customer", "bot", "agent", "system"]},
                        "text": {"type": "string"},
                        "ts": {"type": "string", "format": "date-time"},
                        "buttons": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Button"},
                        },
                        "links": {"type": "array", "items": {"$ref": "#/components/schemas/Link"}},
                    },
                },
                "State": {"type": "string", "enum": ["bot", "queued", "assigned", "resolved"]},
            },
        },
        "paths": {
            "/healthz": {
                "get": {
                    "summary": "Whether every part (gateway, store, Rasa, action server) is up",
                    "responses": {
                        "200": {"description": "All parts up"},
                        "503": {"description": "At least one part down; `down` names them"},
                    },
                }
            },
            "/api/conversations": {
                "post": {
                    "summary": "Start a conversation",
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "language": {"type": "string", "enum": ["ko", "ja", "en"]},
                                        "customer": {
                                            "type": "object",
                                            "properties": {
                                                "id": {"type": "string"},
                                                "name": {"type": "string"},
                                                "email": {"type": "string"},
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _json(
                            {
                                "type": "object",
                                "required": ["conversation_id", "token"],
                                "properties": {
                                    "conversation_id": {"type": "string"},
                                    "token": {"type": "string"},
                                    "language": {"type": "string"},
                                },
                            },
                            "Created; keep the token, it is shown once",
                        ),
                        **_errors(400, 413),
                    },
                }
            },
            "/api/conversations/{conversation_id}": {
                "get": {
                    "summary": "The conversation's state, language and transcript",
                    "security": [{"conversationToken": []}],
                    "parameters": [conversation_id],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "conversation_id": {"type": "string"},
                                    "state": {"$ref": "#/components/schemas/State"},
                                    "language": {"type": "string"},
                                    "messages": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Message"},
                                    },
                                },
                            },
                            "The conversation",
                        ),
                        **_errors(401, 403),
                    },
                }
            },
            "/api/conversations/{conversation_id}/messages": {
                "post": {
                    "summary": "Send a customer message (text, or a button's payload)",
                    "security": [{"conversationToken": []}],
                    "parameters": [conversation_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "text": {"type": "string", "maxLength": 2000},
                                        "payload": {"type": "string"},
                                        "client_id": {
                                            "type": "string",
                                            "description": "Makes a resend idempotent",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "seq": {"type": "integer"},
                                    "duplicate": {"type": "boolean"},
                                    "replies": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Message"},
                                    },
                                    "state": {"$ref": "#/components/schemas/State"},
                                },
                            },
                            "Stored; the bot's replies (or a notice in the customer's language "
                            "when the bot is unavailable)",
                        ),
                        **_errors(400, 401, 403, 413),
                    },
                }
            },
        },
    }
