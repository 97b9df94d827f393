"""Re-execute notebooks in place, top to bottom in a fresh kernel, and store their outputs.

    make execute                                   # every notebook in _toc.yml order
    make execute NB=chapters/mnist/mnist_data.ipynb  # one (or several, space-separated)

After changing a notebook or the library code it uses, run this and commit the result:
nbval (``make test``) then checks that a fresh run reproduces exactly these outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nbtools import ROOT, RUNTIMES, execute, notebooks  # noqa: E402

# The About page shows the run times recorded here, so it is refreshed after any other notebook.
ABOUT = RUNTIMES.parent / "index.ipynb"


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or notebooks()
    for path in paths:
        if not path.is_file():
            print(f"no such notebook: {path}", file=sys.stderr)
            return 2
    if ABOUT.exists() and ABOUT in paths:
        paths.remove(ABOUT)
    if ABOUT.exists():
        paths.append(ABOUT)  # last, so its table includes the times just measured
    for path in paths:
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        seconds = execute(path)
        print(f"  done in {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
