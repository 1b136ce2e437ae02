"""Passage: the Telegram edge, the conversation engine and the command line."""
