"""Rasa runs without TensorFlow when the pipeline does not need it (~550 MB less per process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine.without_tensorflow import (
    TensorFlowAbsent,
    check_graph,
    config_components,
    needs_tensorflow,
)
from bot.errors import ModelNotFoundError
from bot.settings import PROJECT_ROOT


def test_passages_pipeline_needs_no_tensorflow():
    assert needs_tensorflow(config_components(PROJECT_ROOT / "config.yml")) == []


def test_a_pipeline_with_a_tensorflow_component_keeps_it(tmp_path: Path):
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: WhitespaceTokenizer\n  - name: DIETClassifier\n"
                      "policies:\n  - name: TEDPolicy\n  - name: RulePolicy\n")
    assert needs_tensorflow(config_components(config)) == ["DIETClassifier", "TEDPolicy"]


def test_the_bot_process_loads_neither_tensorflow_nor_jax():
    code = ("import sys, bot.engine\n"
            "from bot.engine.without_tensorflow import is_left_out\n"
            "print(is_left_out(), 'jax' in sys.modules, type(sys.modules['tensorflow']).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PROJECT_ROOT, check=True).stdout.split()
    assert out == ["True", "False", "_AbsentModule"]


def test_running_tensorflow_fails_loudly_and_a_model_that_needs_it_is_refused():
    import bot.engine  # noqa: F401 - installs the stand-in before Rasa
    from bot.engine.without_tensorflow import is_left_out

    if not is_left_out():
        pytest.skip("TensorFlow was imported before bot.engine in this process")
    import tensorflow as tf

    with pytest.raises(TensorFlowAbsent):
        tf.constant([1.0])
    with pytest.raises(TensorFlowAbsent):
        tf.keras.layers.Dense(10)
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier

    with pytest.raises(ModelNotFoundError, match="DIETClassifier"):
        check_graph([DIETClassifier])
