"""The agent's graph run in plain order answers exactly as dask's scheduler does: the same
parse of each message and the same next action in a conversation."""

from __future__ import annotations

import copy

from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.engine.sequential_runner import SequentialGraphRunner

TEXTS = ["hola", "no tengo dónde dormir esta noche", "my boss keeps my passport",
         "мне негде спать", "คืนนี้ฉันไม่มีที่นอน", "ما عندي مكان أنام فيه", "estoy en Madrid",
         "help me he is coming", "asdfgh"]


async def test_same_answers_as_dask(passage):
    agent = passage._engine._agent
    runner = agent.processor.graph_runner
    assert type(runner) is SequentialGraphRunner  # what a loaded agent runs
    with_dask = copy.copy(agent)
    with_dask.processor = copy.copy(agent.processor)
    with_dask.processor.graph_runner = copy.copy(runner)
    with_dask.processor.graph_runner.__class__ = DaskGraphRunner

    for text in TEXTS:
        assert await agent.parse_message(text) == await with_dask.parse_message(text)
        tracker = DialogueStateTracker.from_events("someone", [UserUttered(
            text, (await agent.parse_message(text))["intent"])])
        ours = agent.processor.predict_next_with_tracker(tracker)
        assert ours == with_dask.processor.predict_next_with_tracker(tracker)
