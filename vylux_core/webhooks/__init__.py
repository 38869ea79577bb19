"""Webhooks: the message a job's callback receives, its signature, and where a
callback may go."""
