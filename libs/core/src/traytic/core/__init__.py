"""Traytic core: settings, logging, errors, event schemas and the JetStream bus."""
