"""All SQL lives here: async functions that take an `AsyncSession` and never commit.

One module per noun (`users`, `organisations`, `invitations`, `login_sessions`, `sites`,
`api_keys`, `billing`, `webhooks`); the caller's unit of work (`Database.session()`) commits.
"""
