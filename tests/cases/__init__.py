"""The registry of equivariance facts, one module per family of layers.

Each family module ``tests/cases/<family>.py`` defines ``CASES =
testing.Registry()`` and registers its cases into it with
``@CASES.register(name, expect=..., bound=..., fact=...)`` (see
:mod:`groups.testing`); family-specific helpers (random layers, inputs) live
beside the cases that use them. :data:`REGISTRY` concatenates the families in
the order of :data:`FAMILY_NAMES`; ``tests/registry_test.py`` runs every
case, with and without ``jax.jit``, on hypothesis-drawn inputs.

Adding a family is one new file: every module of this package is a family
(found by :mod:`pkgutil`, in alphabetical order: today ``finite_groups``
(G-CNNs over p4, p4m, C8, D8), ``harmonic`` (H-Nets), ``lie`` (local
equivariance under continuous flows: :mod:`groups.lie`), ``polyphase`` (LPS,
shift-equivariant upsampling, U-Net), ``scale`` (rescaling: 1x1 convs, the
Gaussian scale space), ``steerable`` (steerable E(2) layers),
``steerable_axis`` (the reflection axis of D_N / O(2)),
``steerable_fourier`` (Fourier nonlinearities), ``steerable_induced``
(induced representations: induced norm / gated nonlinearities, norm batch
norm and norm pools), ``steerable_linear``
(equivariant linear maps, escnn's other gated nonlinearities),
``steerable_masking``
(field / pointwise dropout, the disk mask, D_N -> C_N pooling),
``steerable_transposed`` (the transposed steerable conv), ``steerable_unet``
(the steerable U-Net) and ``translations`` (shifts of convs, pools and
nets)). Case names must be
unique across families; ``testing.Registry`` rejects a repeated one.
"""

import importlib
import pkgutil

from groups import testing

# Family modules of this package, in registry order.
FAMILY_NAMES = tuple(sorted(module.name for module in
                            pkgutil.iter_modules(__path__)))

FAMILIES = tuple(importlib.import_module(f'{__name__}.{name}')
                 for name in FAMILY_NAMES)

REGISTRY = testing.Registry(
    case for family in FAMILIES for case in family.CASES)
