"""Where `passage run`'s memory goes: resident memory (VmRSS) after each start-up step, and the
peak (VmHWM), in one fresh process.

    python benchmarks/load_memory.py [--model var/models/passage.tar.gz]
                                     [--home PASSAGE_HOME] [--searches 200]

Steps, in the order `passage run` takes them: Python with numpy/scipy/scikit-learn, Rasa (and
TensorFlow unless bot/engine/without_tensorflow.py leaves it out), the gazetteer, the storage
with its keys (`--home`: an existing PASSAGE_HOME, e.g. one with a 100 k-service directory
imported; default: a fresh one with the sample directory), the Rasa agent with the model, and
`--searches` nearby searches in the directory (what a busy bot keeps of it: SQLite's caches).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SAMPLE = ROOT / "services_directory" / "sample" / "services.json"
CITIES = [(40.4168, -3.7038), (41.8781, -87.6298), (51.5072, -0.1276), (34.0522, -118.2437),
          (14.5995, 120.9842), (48.8566, 2.3522), (55.7558, 37.6173), (19.4326, -99.1332)]


def status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Steps:
    def __init__(self) -> None:
        self.last = status("VmRSS")
        self.started = time.perf_counter()
        print(f"{'step':44} {'RSS MB':>8} {'added':>8} {'peak MB':>8} {'s':>6}")

    def done(self, name: str) -> None:
        now = status("VmRSS")
        print(f"{name:44} {now:8.0f} {now - self.last:+8.0f} {status('VmHWM'):8.0f} "
              f"{time.perf_counter() - self.started:6.1f}", flush=True)
        self.last, self.started = now, time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path,
                        default=Path(os.environ.get("PASSAGE_MODEL")
                                     or ROOT / "var/models/passage.tar.gz"))
    parser.add_argument("--home", type=Path, help="PASSAGE_HOME with keys and a directory")
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="passage-memory-"))
    os.environ.update(PASSAGE_HOME=str(home), PASSAGE_MODEL=str(args.model),
                      RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="3")
    if args.home is None:
        for command in (["keys", "init"], ["directory", "import", str(SAMPLE)]):
            subprocess.run([str(BIN / "passage"), *command], check=True, cwd=ROOT,
                           stdout=subprocess.DEVNULL)

    steps = Steps()
    steps.done("python")
    import numpy  # noqa: F401
    import scipy.sparse  # noqa: F401
    import sklearn.svm  # noqa: F401
    steps.done("numpy, scipy, scikit-learn")
    import bot.engine  # noqa: F401 - imports Rasa
    from bot.engine.without_tensorflow import is_left_out
    steps.done("rasa" + (" (TensorFlow left out)" if is_left_out() else " + TensorFlow + jax"))
    from services_directory.places import gazetteer
    gazetteer()
    steps.done("gazetteer")
    from bot.bootstrap import open_storage
    from bot.settings import Settings
    settings = Settings.from_env()
    engine = open_storage(settings)
    steps.done("storage and keys")
    from bot.engine.conversation_engine import ConversationEngine
    from bot.engine.tracker_store import EncryptedSQLTrackerStore
    ConversationEngine.load(settings.model_path, EncryptedSQLTrackerStore(engine))
    steps.done("Rasa agent with the model")
    from services_directory import Near, search
    from services_directory.search import NEEDS
    rng = random.Random(1)
    for _ in range(args.searches):
        latitude, longitude = rng.choice(CITIES)
        search(engine, rng.choice(sorted(NEEDS)),
               Near(latitude + rng.uniform(-0.3, 0.3), longitude + rng.uniform(-0.3, 0.3)),
               limit=3)
    steps.done(f"{args.searches} directory searches")


if __name__ == "__main__":
    main()
