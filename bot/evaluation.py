"""Measured, not assumed: how well Passage understands, per language.

- k-fold: stratified cross-validation on the training data (dialogues/nlu), the same
  pipeline (config.yml) trained k times;
- held-out: tests/nlu_heldout/<lang>.jsonl, written separately and never trained on, through
  the trained model with the safety net and place recognition;
- fresh test: tests/nlu_test/<lang>.jsonl, written later by people who saw neither the
  training data nor the held-out set, after the held-out errors had guided more training data
  (by category, never by text), so that one set stays untouched by any decision.
Reports accuracy and macro accuracy (mean recall over intent+need labels), emergency recall,
false emergencies (share of other messages taken for an emergency) and language-ID accuracy on
messages of 3+ words.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.language_detection import identified_language, long_enough
from bot.settings import PROJECT_ROOT
from bot.understanding import contract_intent

NLU_DIR = PROJECT_ROOT / "dialogues" / "nlu"
HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu_heldout"
FRESH_TEST_DIR = PROJECT_ROOT / "tests" / "nlu_test"


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    intent: str  # contract intent
    need: str | None

    @property
    def label(self) -> str:
        return f"{self.intent}:{self.need}" if self.need else self.intent


@dataclass
class Scores:
    predictions: list[tuple[Example, str, str | None]] = field(default_factory=list)
    language_checks: list[bool] = field(default_factory=list)

    def add(self, example: Example, intent: str, need: str | None) -> None:
        self.predictions.append((example, intent, need))

    def _correct(self, item: tuple[Example, str, str | None]) -> bool:
        example, intent, need = item
        return example.intent == intent and example.need == need

    @property
    def accuracy(self) -> float:
        return _share(self._correct(p) for p in self.predictions)

    @property
    def macro(self) -> float:
        by_label: dict[str, list[bool]] = defaultdict(list)
        for p in self.predictions:
            by_label[p[0].label].append(self._correct(p))
        return sum(_share(v) for v in by_label.values()) / max(len(by_label), 1)

    @property
    def emergency_recall(self) -> float:
        return _share(i == "emergency" for e, i, _ in self.predictions if e.intent == "emergency")

    @property
    def false_emergencies(self) -> float:
        return _share(i == "emergency" for e, i, _ in self.predictions if e.intent != "emergency")

    @property
    def language_id(self) -> float:
        return _share(self.language_checks)


def _share(values: Iterable[bool]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else float("nan")


def training_examples() -> list[Example]:
    examples = []
    for path in sorted(NLU_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            name = block.get("intent")
            if not name:
                continue
            intent, need, _ = contract_intent({"intent": {"name": name}})
            for line in str(block.get("examples") or "").splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    examples.append(Example(text, path.stem, intent, need))
    return examples


def heldout_examples(directory: Path = HELDOUT_DIR) -> list[Example]:
    examples = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                examples.append(Example(item["text"], path.stem, item["intent"], item.get("need")))
    return examples


async def _predict(agent, examples: list[Example], scores: dict[str, Scores]) -> None:  # noqa: ANN001
    for example in examples:
        parsed = await agent.parse_message(example.text)
        intent, need, _ = contract_intent(parsed)
        scores[example.language].add(example, intent, need)
        if long_enough(example.text):
            scores[example.language].language_checks.append(
                identified_language(parsed)[0] == example.language)


def unseen(examples: list[Example]) -> list[Example]:
    """Those not also in the training data: the fresh set was written without looking at it,
    so a few common words ("hola", "yes") are in both; they say nothing about generalising."""
    from services_directory.places import normalize

    trained = {normalize(e.text) for e in training_examples()}
    return [e for e in examples if normalize(e.text) not in trained]


def evaluate_heldout(model_path: Path, directories: Iterable[Path] = (HELDOUT_DIR,)
                     ) -> list[dict[str, Scores]]:
    """One agent, scores per language for each set of messages never trained on."""
    from bot.engine import load_agent

    agent = load_agent(str(model_path))
    results = []
    for directory in directories:
        scores: dict[str, Scores] = defaultdict(Scores)
        asyncio.run(_predict(agent, unseen(heldout_examples(directory)), scores))
        results.append(scores)
    return results


def _write_nlu(examples: list[Example], names: dict[Example, str], path: Path) -> None:
    """Training data in the shape of dialogues/nlu: blocks per intent and language."""
    blocks_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    for example in examples:
        blocks_of[(names[example], example.language)].append(example.text)
    blocks = [{"intent": intent, "metadata": {"language": language},
               "examples": "".join(f"- {t}\n" for t in texts)}
              for (intent, language), texts in blocks_of.items()]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True),
                    encoding="utf-8")


def cross_validate(folds: int = 5, seed: int = 7) -> dict[str, Scores]:
    """Stratified by intent and language: every fold holds a share of each."""
    from bot.engine import load_agent, train_nlu
    from bot.training import record_model_hash

    examples = training_examples()
    names = {e: (f"need_{e.need}" if e.need else e.intent) for e in examples}
    strata: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        strata[(names[example], example.language)].append(example)
    fold_of: dict[Example, int] = {}
    rng = random.Random(seed)
    for members in strata.values():
        rng.shuffle(members)
        for position, example in enumerate(members):
            fold_of[example] = position % folds
    scores: dict[str, Scores] = defaultdict(Scores)
    with tempfile.TemporaryDirectory() as work:
        for fold in range(folds):
            train = [e for e in examples if fold_of[e] != fold]
            test = [e for e in examples if fold_of[e] == fold]
            data = Path(work) / f"fold{fold}.yml"
            _write_nlu(train, names, data)
            model = train_nlu(str(PROJECT_ROOT / "config.yml"), str(data), work,
                              fixed_model_name=f"fold{fold}",
                              domain=str(PROJECT_ROOT / "dialogues" / "domain.yml"))
            record_model_hash(model)  # trained just now, by this process
            asyncio.run(_predict(load_agent(model), test, scores))
    return scores


def table(heldout: dict[str, Scores], folds: dict[str, Scores] | None,
          name: str = "held-out") -> str:
    head = (f"| language | k-fold accuracy | {name} accuracy | {name} macro | emergency recall "
            "| false emergencies | language ID (3+ words) |")
    lines = [head, "|" + "---|" * 7]
    languages = sorted(set(heldout) | set(folds or {}))
    for language in [*languages, "all"]:
        h = _pick(heldout, language) or Scores()
        k = _pick(folds, language)
        lines.append(
            f"| {language} | {_pct(k.accuracy) if k else '–'} | {_pct(h.accuracy)} | "
            f"{_pct(h.macro)} | {_pct(h.emergency_recall)} | {_pct(h.false_emergencies)} | "
            f"{_pct(h.language_id)} |")
    return "\n".join(lines)


def _pick(scores: dict[str, Scores] | None, language: str) -> Scores | None:
    if not scores:
        return None
    return _merge(scores.values()) if language == "all" else scores.get(language)


def _merge(all_scores: Iterable[Scores]) -> Scores:
    merged = Scores()
    for scores in all_scores:
        merged.predictions.extend(scores.predictions)
        merged.language_checks.extend(scores.language_checks)
    return merged


def _pct(value: float) -> str:
    return "–" if value != value else f"{100 * value:.1f} %"
