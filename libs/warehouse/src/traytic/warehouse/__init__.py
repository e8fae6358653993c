"""Traytic warehouse: the ClickHouse side (migrations, backends, stats queries)."""
