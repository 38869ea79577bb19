"""ASGI middleware of the HTTP adapter (http-api §2.1); each module is one layer."""
