"""The registry of equivariance facts, one module per family of layers.

Each family module ``tests/cases/<family>.py`` defines ``CASES =
testing.Registry()`` and registers its cases into it with
``@CASES.register(name, expect=..., bound=..., fact=...)`` (see
:mod:`groups.testing`); family-specific helpers (random layers, inputs) live
beside the cases that use them. :data:`REGISTRY` concatenates the families in
the order of :data:`FAMILY_NAMES`; ``tests/registry_test.py`` runs every
case, with and without ``jax.jit``, on hypothesis-drawn inputs.

Adding a family is a one-line change: write ``tests/cases/<family>.py`` and
append ``'<family>'`` to :data:`FAMILY_NAMES`. Case names must be unique
across families; ``testing.Registry`` rejects a repeated one.
"""

import importlib

from groups import testing

# Family modules of this package, in registry order.
FAMILY_NAMES = (
    'translations',  # shifts of convs, pools and nets; 90-degree convs
    'finite_groups',  # G-CNNs over p4, p4m, C8, D8
    'harmonic',  # H-Nets: circular-harmonic convs
    'steerable',  # steerable E(2) convs over field types
    'polyphase',  # LPS, shift-equivariant upsampling, U-Net
)

FAMILIES = tuple(importlib.import_module(f'{__name__}.{name}')
                 for name in FAMILY_NAMES)

REGISTRY = testing.Registry(
    case for family in FAMILIES for case in family.CASES)
