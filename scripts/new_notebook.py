"""Start a new chapter notebook with the shared setup cell and normalised metadata.

.venv/bin/python scripts/new_notebook.py chapters/mnist/cnn.ipynb "A convolutional network" --gpu
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbtools import new_notebook  # noqa: E402

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("title")
    parser.add_argument("--intro", default="What this notebook does, and why, in two sentences.")
    parser.add_argument(
        "--gpu", action="store_true", help="a training notebook: ask Colab for a GPU"
    )
    args = parser.parse_args()
    if args.path.exists():
        sys.exit(f"{args.path} exists; not overwriting it")
    print(new_notebook(args.path, args.title, args.intro, gpu=args.gpu))
