"""The conversation engine: a Rasa agent in this process, its actions and its storage."""

import warnings

# Importing Rasa imports TensorFlow, jax and SQLAlchemy 1.4, which print deprecation notices
# meant for their developers and reset warning filters on the way. Import it once, quietly.
with warnings.catch_warnings(record=True):
    warnings.simplefilter("ignore")
    import rasa.core.agent  # noqa: F401
