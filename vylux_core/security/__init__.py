"""Signed URLs, key tokens, content keys and their licences: what proves a request
may see what it asks for."""
