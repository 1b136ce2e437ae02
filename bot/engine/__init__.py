"""The conversation engine: a Rasa agent in this process, its actions and its storage."""

import warnings

# Importing Rasa imports TensorFlow, jax and SQLAlchemy 1.4, which print deprecation notices
# meant for their developers and reset warning filters on the way. Import it once, quietly.
with warnings.catch_warnings(record=True):
    warnings.simplefilter("ignore")
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

__all__ = ["Agent", "load_agent", "train_nlu"]


def load_agent(model_path: str) -> Agent:
    """A Rasa agent for understanding only (no conversation storage)."""
    return Agent.load(model_path)
