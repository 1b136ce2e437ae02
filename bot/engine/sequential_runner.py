"""Rasa's model graph run in plain order, without dask's scheduler.

Rasa runs its graph (the NLU pipeline for each message; the policies for each prediction,
two or three per message) through dask's synchronous scheduler, whose bookkeeping costs more
than some of the components it runs. A loaded agent's runner is made this subclass
(`conversation_engine.loaded`): the same nodes, called in the order their inputs need them,
each once. One NLU parse: 9.5 -> 7.7 ms CPU, same answers.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    def run(self, inputs: dict[str, Any] | None = None,
            targets: list[str] | None = None) -> dict[str, Any]:
        run_targets = targets or self._graph_schema.target_names
        schema = self._graph_schema.minimal_graph_schema(run_targets)
        # As in dask's graph: every value is (node name, output).
        done: dict[str, Any] = {name: (name, value) for name, value in (inputs or {}).items()}

        def output(name: str) -> Any:
            if name not in done:
                needs = schema.nodes[name].needs.values()
                done[name] = self._instantiated_nodes[name](*(output(n) for n in needs))
            return done[name]

        return dict(output(target) for target in run_targets)


def run_sequentially(agent: Any) -> None:
    runner = agent.processor.graph_runner
    if type(runner) is DaskGraphRunner:
        runner.__class__ = SequentialGraphRunner
