"""rasa_sdk custom actions: run in-process by the bot, or by a standard action server."""
