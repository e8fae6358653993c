"""Traytic consumer: JetStream batches, enriched, into ClickHouse, then live fan-out."""
