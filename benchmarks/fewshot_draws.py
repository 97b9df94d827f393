"""Score the random few-shot draws of ``chapters/prompting/prompt_experiments.ipynb``.

Step 5 of the prompting method picks few-shot examples from the prompt's errors. The notebook
tests that rule against three random draws of one ticket per queue. Scoring those three prompts
on the 192 remaining dev tickets takes about 130 s of one CPU core, a repetition rather than the
lesson, so this script does it once and writes, for every draw, its example ids and which tickets
it got right to ``prompt_lab/data/fewshot_draws.json``. The notebook makes the same draws
(``prompt_lab.fewshot``), checks that the record matches them, and runs McNemar's test of each
draw against its own live few-shot results::

    .venv/bin/python benchmarks/fewshot_draws.py   # about 2 minutes on 2 cores

Run it again whenever the model, the step-3 prompt, the tickets or the seed change; the notebook
then fails until it is.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

from book_core.runtime import setup

SEED = setup()  # the pinned numerics, before NumPy and torch load; the notebooks' seed

from prompt_lab import evaluate, evaluate_logprob, load_tickets  # noqa: E402
from prompt_lab.fewshot import RECORD, examples_from_errors, random_draws  # noqa: E402
from prompt_lab.local import load_local_model  # noqa: E402
from prompt_lab.prompts import FORMAT_PROMPT  # noqa: E402

DRAWS = 3
OUT = Path(__file__).resolve().parents[1] / "prompt_lab" / "data" / RECORD


def main() -> int:
    seed = SEED
    model = load_local_model(threads=2)
    dev = load_tickets("dev")
    step3 = FORMAT_PROMPT
    errors = examples_from_errors(evaluate_logprob(model, step3, dev), dev)
    error_ids = {t.id for t in errors}
    draws = random_draws(dev, error_ids, DRAWS, seed)
    used = error_ids | {t.id for draw in draws for t in draw}
    dev_rest = [t for t in dev if t.id not in used]
    record = []
    for number, draw in enumerate(draws, start=1):
        template = step3.with_examples([(t.text, t.label) for t in draw], f"random draw {number}")
        result = evaluate(model, template, dev_rest, max_new_tokens=6)
        print(f"draw {number} ({', '.join(t.id for t in draw)}): accuracy {result.accuracy:.3f}")
        record.append(
            {"examples": [t.id for t in draw], "right": {r.id: r.correct for r in result.items}}
        )
    import torch
    import transformers

    OUT.write_text(
        json.dumps(
            {
                "made_by": "benchmarks/fewshot_draws.py",
                "seed": seed,
                "versions": {
                    "python": platform.python_version(),
                    "torch": torch.__version__,
                    "transformers": transformers.__version__,
                },
                "draws": record,
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
