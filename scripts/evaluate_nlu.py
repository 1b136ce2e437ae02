"""Evaluate understanding per language; prints the table that goes in the README.

    .venv/bin/python scripts/evaluate_nlu.py [--folds 5] [--heldout-only] [--model PATH]

Prints the table for the held-out set (with k-fold) and for the fresh test set.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.logging_setup import configure_logging  # noqa: E402

configure_logging()

from bot.evaluation import (  # noqa: E402
    FRESH_TEST_DIR,
    HELDOUT_DIR,
    cross_validate,
    evaluate_heldout,
    table,
)
from bot.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--heldout-only", action="store_true")
    parser.add_argument("--model", type=Path, default=Settings.from_env().model_path)
    args = parser.parse_args()
    heldout, fresh = evaluate_heldout(args.model, (HELDOUT_DIR, FRESH_TEST_DIR))
    folds = None if args.heldout_only else cross_validate(args.folds)
    print(table(heldout, folds))
    print()
    print(table(fresh, None, name="fresh test"))


if __name__ == "__main__":
    main()
