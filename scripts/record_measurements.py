"""Copy the measurements that ``chapters/roadmap/unit_economics.ipynb`` prices into its record.

The unit-economics notebook uses the book's own measured numbers wherever they exist: the
prompting ladder's accuracy on held-out tickets, with its interval, the tokens a ticket costs, the
parameters a token passes through, the CPU seconds a ticket takes and the probe's learning curve
(``chapters/prompting/ladder.ipynb``), and the token tax of Chinese tickets
(``chapters/roadmap/cultural_advantage.ipynb``). Re-measuring them takes a language model and
about ten minutes, so this script reads them from those notebooks' stored outputs (their glued
values and result records, which nbval checks on every run) and writes them, with where each
came from, to ``compute_budget/data/measured.json``. The file ships with the package, so the
notebook reads the same numbers on Colab (``compute_budget.measured``)::

    .venv/bin/python scripts/record_measurements.py          # write the record
    .venv/bin/python scripts/record_measurements.py --check  # exit 1 if it is out of date

``tests/test_measured_record.py`` runs the check, so re-executing the ladder with different numbers
fails the tests until this script is run again.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "compute_budget" / "data" / "measured.json"
LADDER = "chapters/prompting/ladder.ipynb"
CULTURE = "chapters/roadmap/cultural_advantage.ipynb"

# record name: (notebook, glued name, what it is)
GLUED = {
    "ticket_tokens": (LADDER, "econ_ticket_tokens", "tokens of a held-out ticket's text, mean"),
    "prompt_tokens": (
        LADDER,
        "econ_prompt_tokens",
        "tokens the best prompt reads per ticket once its shared beginning is cached, answers scored",
    ),
    "prompt_tokens_whole": (
        LADDER,
        "econ_prompt_tokens_whole",
        "tokens of the best prompt per ticket, read whole, answers scored",
    ),
    "prompt_params": (LADDER, "econ_prompt_params", "parameters a prompt token passes through"),
    "probe_params": (
        LADDER,
        "econ_probe_params",
        "parameters a token passes through for the probe",
    ),
    "finetune_params": (
        LADDER,
        "econ_finetune_params",
        "parameters a token passes through for the fine-tuned rung",
    ),
    "dev_tickets": (
        LADDER,
        "econ_dev_tickets",
        "labelled dev tickets the trained rungs learn from",
    ),
    "queues": (LADDER, "econ_queues", "queues a ticket is routed to"),
    "cpu_seconds_probe": (
        LADDER,
        "econ_cpu_seconds_probe",
        "CPU seconds per held-out ticket, linear probe, 2 cores of the book's test machine",
    ),
    "cpu_seconds_finetune": (
        LADDER,
        "econ_cpu_seconds_finetune",
        "CPU seconds per held-out ticket, fine-tuned rung, 2 cores of the book's test machine",
    ),
}
CURVE_SIZES = (4, 8, 16, 32, 50)
for _size in CURVE_SIZES:
    GLUED[f"curve_{_size}"] = (
        LADDER,
        f"econ_curve_{_size}",
        f"probe's held-out accuracy trained on {_size} tickets per queue, mean of 5 draws",
    )
    GLUED[f"curve_sd_{_size}"] = (
        LADDER,
        f"econ_curve_sd_{_size}",
        f"sd over the 5 draws of the probe's accuracy at {_size} tickets per queue",
    )
# record name: (notebook, result record)
RESULTS = {
    "prompt_accuracy": (LADDER, "ladder_prompt_accuracy"),
    "probe_accuracy": (LADDER, "ladder_probe_accuracy"),
    "finetune_accuracy": (LADDER, "ladder_finetune_accuracy"),
    "token_ratio_smollm2": (CULTURE, "token_ratio_smollm2"),
    "token_ratio_qwen": (CULTURE, "token_ratio_qwen"),
}
# CPU timings vary from run to run; benchmarks/seed_spread.py measured their range over 5 runs.
TIMING_SPREAD = {
    "cpu_seconds_probe": ("5cae4f5f", "c. linear probe#0"),
    "cpu_seconds_finetune": ("5cae4f5f", "d. fine-tuned top blocks#0"),
}


def _glued(notebook: dict) -> dict[str, object]:
    values = {}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain")
            if name is not None and text is not None:
                values[name] = ast.literal_eval("".join(text))  # the repr glue stored
    return values


def build() -> dict:
    """The record, read from the stored notebooks and ``benchmarks/seed_spread.json``."""
    from uncertainty.results import collect

    notebooks = {rel: json.loads((ROOT / rel).read_text()) for rel in (LADDER, CULTURE)}
    glued = {rel: _glued(nb) for rel, nb in notebooks.items()}
    results = {rel: {r["name"]: r for r in collect(nb, rel)} for rel, nb in notebooks.items()}
    spread = json.loads((ROOT / "benchmarks" / "seed_spread.json").read_text())[LADDER]["cells"]
    values: dict[str, dict] = {}
    for name, (rel, key, label) in GLUED.items():
        if key not in glued[rel]:
            raise KeyError(f"{rel} glues no {key!r}: re-execute it (make execute NB={rel})")
        values[name] = {"value": glued[rel][key], "label": label, "source": rel, "glue": key}
    for name, (cell, key) in TIMING_SPREAD.items():
        measured = spread[cell]["values"][key]
        values[name]["seed_runs"] = {k: measured[k] for k in ("min", "max", "n")}
    for name, (rel, key) in RESULTS.items():
        if key not in results[rel]:
            raise KeyError(f"{rel} reports no result {key!r}: re-execute it")
        r = results[rel][key]
        values[name] = {
            **{k: r[k] for k in ("value", "low", "high", "n", "unit", "interval", "label")},
            "source": rel,
            "result": key,
        }
    return {"made_by": "scripts/record_measurements.py", "values": values}


def main(argv: list[str]) -> int:
    record = json.dumps(build(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if "--check" in argv:
        if not RECORD.is_file() or RECORD.read_text() != record:
            print(f"{RECORD.relative_to(ROOT)} is out of date: run scripts/record_measurements.py")
            return 1
        print(f"{RECORD.relative_to(ROOT)} matches the stored notebooks")
        return 0
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(record)
    print(f"wrote {RECORD.relative_to(ROOT)} ({len(json.loads(record)['values'])} values)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
