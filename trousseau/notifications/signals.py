"""What the delivery machinery tells the rest of the service (metrics listen, see trousseau/ops)."""

from django.dispatch import Signal

# Sent after every attempt with `channel` ("sms", "email") and `outcome` ("sent", "retry", "failed").
delivery_attempted = Signal()
