"""Traytic query service: the stats API, live SSE, accounts, organisations, sites and keys."""
