"""Alerts and scheduled reports: the rules, the messages, the channels (email over SMTP, Slack
incoming webhooks, signed webhooks) and the scheduler that any number of replicas run at once,
each message sent exactly once through the `deliveries` outbox. The billing service hosts it
(`running_scheduler`); the query service serves the API over the same tables."""

from traytic.alerts.scheduler import running_scheduler
from traytic.alerts.settings import AlertsSettings, load_alerts_settings

__all__ = ["AlertsSettings", "load_alerts_settings", "running_scheduler"]
