"""The conversation engine: a Rasa agent in this process, its actions and its storage."""
