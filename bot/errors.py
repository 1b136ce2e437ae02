"""Errors an operator can cause: each is shown as one clear line, and nothing is changed."""


class UsageError(Exception):
    """Something typed or configured is wrong."""


class ModelNotFoundError(UsageError):
    """No trained model at the configured path."""
