"""The code of the course book's "tiny GPT" part (``chapters/tiny_gpt/``): a character-level GPT,
small enough to train on a laptop, that learns to write five-character Tang quatrains.

Each module names the chapter that uses it:

- :mod:`tiny_gpt.poems`: the five-character Tang poems (quatrains and regulated verses), verified
  (fetched from npm, checked by SHA-256), split by poem without leaking shared lines between
  splits, cut into four-line stanzas, and their character vocabulary (``char_gpt.ipynb``,
  ``scaling.ipynb``).
- :mod:`tiny_gpt.attention`: attention in NumPy, forward and backward (``attention.ipynb``).
- :mod:`tiny_gpt.baselines`: the unigram and bigram count models the GPT has to beat
  (``char_gpt.ipynb``).
- :mod:`tiny_gpt.sampling`: generation with temperature and top-k, and the metrics of generated
  poems (``char_gpt.ipynb``).
- :mod:`tiny_gpt.model`: the Keras GPT, its training loop and its exact FLOP count
  (``char_gpt.ipynb``, ``scaling.ipynb``).

``python -m tiny_gpt download | verify | info`` fetches, checks and describes the poems.
"""

from __future__ import annotations
