"""Traytic ingest gateway: `POST /collect` into NATS JetStream."""
