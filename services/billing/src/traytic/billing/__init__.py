"""Traytic billing: Paystack and Polar checkout, verified webhooks, plans and quotas."""
