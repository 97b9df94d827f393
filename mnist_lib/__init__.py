"""Code shared by the chapters of the AI startup course book.

Each module names the chapter that introduced it:

- :mod:`mnist_lib.data`, :mod:`mnist_lib.idx`: MNIST, verified (the MNIST project's opening chapter).
- :mod:`mnist_lib.runtime`: the setup cell that opens every notebook.
"""

from mnist_lib.data import CorruptFileError, MNISTNotFoundError, load_mnist

__all__ = ["CorruptFileError", "MNISTNotFoundError", "load_mnist"]
__version__ = "0.1.0"
