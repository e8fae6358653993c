"""Traytic query service: the stats API, live SSE, and accounts, organisations, sites and API keys."""
