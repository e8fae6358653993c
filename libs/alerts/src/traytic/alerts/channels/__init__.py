"""How a rendered delivery leaves: email (SMTP), Slack (incoming webhook), webhook (signed).

A channel either returns (the receiver accepted the message) or raises `SendError`, saying
whether trying again could help (`permanent=False`: a timeout, a 5xx, a full mailbox) or not
(a refused address, a Slack webhook that no longer exists).
"""

from __future__ import annotations


class SendError(Exception):
    def __init__(
        self, message: str, *, permanent: bool = False, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after_s = retry_after_s
