"""ASGI middleware of the HTTP adapter, layered as http-api §2.1 orders it; each module
is one layer."""
