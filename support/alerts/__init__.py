"""Telling staff in time: a daily digest mail and short chat alerts (Slack-compatible)."""
