"""Rasa without TensorFlow, when nothing in the pipeline needs it.

Rasa 3.6 imports TensorFlow (and, through it, jax) whatever the pipeline: policy.py imports
the featurizers, which import the entity extractor's training utilities, which import Keras
callbacks. Passage's pipeline is scikit-learn and rules; TensorFlow only costs ~550 MB of
memory and ~10 s of start-up per process. When config.yml names only components known to run
without it, a stand-in is installed before Rasa is imported: its modules exist, their classes
can be subclassed and their decorators applied (what importing Rasa does), but anything that
would really run TensorFlow raises `TensorFlowAbsent`, and `check_graph` refuses a model whose
graph has a component outside the list (trained from another config), with one clear line.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ModelNotFoundError

STAND_IN_FOR = ("tensorflow", "keras", "tensorflow_text", "tensorflow_hub", "tensorflow_addons",
                "tensorflow_estimator")
# Components (config names and the graph's classes) whose code never runs TensorFlow.
WITHOUT_TENSORFLOW = frozenset({
    "RulePolicy", "MemoizationPolicy", "AugmentedMemoizationPolicy", "FallbackClassifier",
    "KeywordIntentClassifier", "RegexEntityExtractor", "EntitySynonymMapper",
    "WhitespaceTokenizer", "RegexFeaturizer", "CountVectorsFeaturizer",
    "LexicalSyntacticFeaturizer", "LogisticRegressionClassifier", "SklearnIntentClassifier",
})
RASA_PLUMBING = ("rasa.graph_components.", "rasa.core.policies.ensemble.",
                 "rasa.nlu.classifiers.regex_message_handler.")
OWN_COMPONENTS = "bot."


class TensorFlowAbsent(RuntimeError):
    """Something tried to run TensorFlow in a process that left it out."""


class _AbsentMeta(type):
    """Any name under a stand-in module: a class that can be subclassed, used in type hints
    and as a decorator, and fails when it would have to compute anything."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _placeholder(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if "_absent" in cls.__dict__:  # a name of the stand-in itself, not a subclass
            if len(args) == 1 and not kwargs and callable(args[0]):
                return args[0]  # @tf.function, @keras...register_keras_serializable
            if not args:
                return _placeholder(f"{cls.__qualname__}()")  # @tf.function(...), TensorSpec
        raise TensorFlowAbsent(f"{cls.__qualname__}: TensorFlow is not loaded in this process")

    def __getitem__(cls, item: Any) -> type:
        return cls

    def __or__(cls, other: Any) -> Any:
        return cls

    __ror__ = __or__


def _placeholder(path: str) -> type:
    module = path.rpartition(".")[0] or path
    return _AbsentMeta(path, (), {"_absent": True, "__module__": module, "__qualname__": path})


class _AbsentModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = sys.modules.get(f"{self.__name__}.{name}") or _placeholder(
            f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] in STAND_IN_FOR:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _AbsentModule(spec.name)
        module.__path__ = []
        module.__version__ = "0"
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run."""


def config_components(config: Path) -> list[str]:
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return [str(item.get("name")) for key in ("pipeline", "policies")
            for item in data.get(key) or [] if isinstance(item, dict)]


def needs_tensorflow(components: Iterable[str]) -> list[str]:
    """The components (config names or class paths) not known to run without TensorFlow."""
    return [name for name in components
            if not name.startswith((OWN_COMPONENTS, *RASA_PLUMBING))
            and name.rpartition(".")[2] not in WITHOUT_TENSORFLOW]


def leave_out_tensorflow(config: Path) -> bool:
    """Install the stand-in, unless the pipeline needs TensorFlow or it is imported already.
    Call before anything imports Rasa; True when TensorFlow is left out."""
    if is_left_out():
        return True
    if any(name in sys.modules for name in STAND_IN_FOR) or not config.is_file():
        return False
    if needs_tensorflow(config_components(config)):
        return False
    sys.meta_path.insert(0, _StandIn())
    return True


def is_left_out() -> bool:
    return any(isinstance(finder, _StandIn) for finder in sys.meta_path)


def check_graph(component_classes: Iterable[type]) -> None:
    """A model trained with TensorFlow components cannot run in a process without it."""
    if not is_left_out():
        return
    missing = needs_tensorflow(f"{c.__module__}.{c.__qualname__}" for c in component_classes)
    if missing:
        raise ModelNotFoundError(
            f"the model uses {', '.join(sorted(set(missing)))}, which config.yml does not: "
            "retrain it with `passage train`")
