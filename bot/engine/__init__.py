"""The conversation engine: a Rasa agent in this process, its actions and its storage."""

import warnings

from bot.engine.without_tensorflow import leave_out_tensorflow
from bot.settings import PROJECT_ROOT

leave_out_tensorflow(PROJECT_ROOT / "config.yml")  # before Rasa would import it (~550 MB)
# Importing Rasa imports SQLAlchemy 1.4 (and TensorFlow and jax, unless left out), which print
# deprecation notices meant for their developers and reset warning filters on the way. Import
# it once, quietly.
with warnings.catch_warnings(record=True):
    warnings.simplefilter("ignore")
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

__all__ = ["Agent", "load_agent", "train_nlu"]


def load_agent(model_path: str) -> Agent:
    """A Rasa agent for understanding only (no conversation storage); only a model whose
    hash is the one recorded when it was trained (bot/training.py)."""
    from bot.engine.conversation_engine import loaded
    from bot.training import check_model_hash

    check_model_hash(model_path)
    return loaded(Agent.load(model_path))
