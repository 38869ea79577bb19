"""Route handlers: decode the request, call one service, encode the answer."""
