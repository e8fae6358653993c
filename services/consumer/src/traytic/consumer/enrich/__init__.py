"""Pure enrichment steps of the consumer: each turns one raw beacon fact into warehouse columns.

Every module is free of I/O except loading its database once at construction, and caches what
is expensive (user agent parsing, bot patterns, GeoIP) in a bounded LRU keyed by the input.
"""
