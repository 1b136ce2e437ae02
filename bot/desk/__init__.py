"""The caseworker handoff desk: consent, queue, claim, two-way relay, notes, close.

Every state lives in the database (bot/desk/models.py), so any worker, and a restarted one,
carries on exactly where the last left off. Messages for other chats than the one being
answered go through an outbox table that the Telegram edge drains.
"""
