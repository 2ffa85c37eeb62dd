"""Data sets for experiments (used only by :mod:`experiments`).

* :func:`embedded_digits` — scikit-learn's 8x8 handwritten digits, upsampled
  and centred on a black canvas; ships inside the sklearn wheel, so it works
  offline on a fresh machine. Images are ``[N, H, W, 1]`` float32 in [0, 1].
"""

from data.embedded import embedded_digits

__all__ = ['embedded_digits']
