"""Outbound webhooks: billing events written to an outbox in the change's own transaction, then posted,
signed per Standard Webhooks, to every endpoint that subscribed, with retries for more than three days."""
