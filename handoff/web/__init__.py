"""The application and its edge: the app factory and its start-up, the shared HTTP
plumbing (errors, JSON, tokens), security headers and origins, rate limits, the request
models and the OpenAPI document built from them, metrics, and the operators' routes."""
