"""How often people may try to sign in and sign up, shared by the query replicas.

Failed logins back off on three keys at once, and the longest wait wins:
- the (account, address) pair: `login_rate_limit` free failures, then waits doubling up to
  `login_rate_window_s` — a guesser at one address is stopped, its victim elsewhere is not;
- the address: more free failures, the same long cap — one address spraying many accounts;
- the account: its own free failures, then waits capped at `login_account_max_wait_s` (seconds,
  not minutes), so guessing from many addresses is slowed to a crawl, while the real user, whom
  a stranger can make wait at most that long, is never locked out.
A success clears the pair and the account. Sign-ups count per client address and per email
address (every attempt).
"""

from __future__ import annotations

from traytic.core.errors import TooManyAttempts
from traytic.query.backoff import BackoffRule, Backoffs, key_for
from traytic.query.settings import QuerySettings


class LoginLimits:
    def __init__(self, backoffs: Backoffs, settings: QuerySettings) -> None:
        self.backoffs = backoffs
        window = settings.login_rate_window_s
        self.pair = BackoffRule(settings.login_rate_limit, 1.0, window, window)
        self.address = BackoffRule(settings.login_address_limit, 1.0, window, window)
        self.account = BackoffRule(
            settings.login_account_limit, 1.0, settings.login_account_max_wait_s, window
        )
        self.signup = BackoffRule(
            settings.signup_rate_limit, settings.signup_rate_window_s, 3600.0, 3600.0
        )
        self.code = BackoffRule(settings.two_factor_code_limit, 1.0, 900.0, 3600.0)
        self.signup_email = BackoffRule(
            settings.signup_email_limit, settings.signup_rate_window_s, 3600.0, 3600.0
        )

    def _keys(self, email: str, address: str) -> list[tuple[str, BackoffRule]]:
        email = email.strip().lower()
        return [
            (key_for("pair", f"{email}|{address}"), self.pair),
            (key_for("addr", address), self.address),
            (key_for("acct", email), self.account),
        ]

    async def check_login(self, email: str, address: str) -> None:
        """429 with `Retry-After` while any of the three keys must wait."""
        waits = [await self.backoffs.wait(key, rule) for key, rule in self._keys(email, address)]
        wait = max(waits)
        if wait > 0:
            raise TooManyAttempts("too many failed logins: wait and try again", retry_after=wait)

    async def login_failed(self, email: str, address: str) -> None:
        for key, rule in self._keys(email, address):
            await self.backoffs.fail(key, rule)

    async def login_succeeded(self, email: str, address: str) -> None:
        pair, _, account = self._keys(email, address)
        await self.backoffs.clear(pair[0])
        await self.backoffs.clear(account[0])

    async def check_signup(self, address: str, email: str) -> None:
        """Count a sign-up attempt of the client address and of the email address; 429 past
        `signup_rate_limit` (client) or `signup_email_limit` (email) an hour. The email's count
        is the same whether it has an account or not, so a 429 tells nothing about that."""
        keys = [
            (key_for("signup", address), self.signup, "from this address"),
            (key_for("signup_email", email.strip().lower()), self.signup_email, "for this email"),
        ]
        for key, rule, what in keys:
            wait = await self.backoffs.wait(key, rule)
            if wait > 0:
                raise TooManyAttempts(f"too many sign-ups {what}: try later", retry_after=wait)
        for key, rule, _ in keys:
            await self.backoffs.fail(key, rule)

    async def check_code(self, user_id: str) -> None:
        """429 while wrong second-factor codes of this account make it wait. Only someone who
        had the password gets here, so this wait cannot be forced on the user by a stranger."""
        wait = await self.backoffs.wait(key_for("code", user_id), self.code)
        if wait > 0:
            raise TooManyAttempts("too many wrong codes: wait and try again", retry_after=wait)

    async def code_failed(self, user_id: str) -> None:
        await self.backoffs.fail(key_for("code", user_id), self.code)

    async def code_succeeded(self, user_id: str) -> None:
        await self.backoffs.clear(key_for("code", user_id))
