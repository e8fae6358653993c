"""The payment providers: each module holds its API client and how its webhooks apply."""
