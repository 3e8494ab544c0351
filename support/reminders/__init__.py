"""Mails that keep supporters giving: a reminder before a renewal, a warning before a card
stops working. Both are service mail, owed once through the outbox (`support.mail.queue`)."""
