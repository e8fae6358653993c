"""What Traytic's HTTP services (gateway, query, billing) share and the consumer does not:
the Litestar error handlers, request ids, health probes, `/metrics`, the trusted-proxy rule
for client addresses, and serving under Granian. `traytic.core` stays free of HTTP."""
