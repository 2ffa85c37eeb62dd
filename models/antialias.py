"""Drop-in anti-aliasing: one call turns an unmodified Flax model shift-robust.

    model = ResNet(...)                                   # any linen module
    smooth = models.antialias(model, method='blur', filter_size=3)
    logits = smooth.apply(variables, x, train=False)      # the SAME variables

:func:`antialias` wraps ``model`` in :class:`Antialiased`, a module that
shares ``model``'s scope (``nn.share_scope``), so its parameter tree is the
original one and existing weights load unchanged; while the model runs it
rewrites every downsampling it can see, following antialiased-cnns' recipe
(Zhang 2019) and the APS / LPS papers:

==========================  ===============================================
original                    rewritten (``method`` = 'blur' | 'aps' | 'lps')
==========================  ===============================================
``nn.Conv(strides=s)``,     the same conv (same kernel) at stride 1, then
``layers.Conv(stride=s)``   the downsampler with stride ``s`` (ConvBlurPool)
``nn.max_pool(strides=s)``  max pool with the same window at stride 1, then
                            the downsampler (MaxBlurPool)
``nn.avg_pool(strides=s)``  avg pool with the same window at stride 1, then
                            the downsampler (antialiased-cnns drops the
                            average; keeping it is a slightly stronger
                            low-pass with the same output size)
==========================  ===============================================

The downsampler is :func:`layers.blur_pool` ('blur', binomial
``filter_size`` 1..7), APS (:func:`layers.aps_indices` +
:func:`layers.take_polyphase`, optional blur of ``filter_size``) or LPS
(:class:`layers.LPD`, optional blur of ``filter_size``). Output grids are
those of the original layer (``floor((N - 1) / s) + 1`` samples of the
stride-1 map of ``N`` samples), so dense heads after a flatten still fit.

Residual blocks: within one module (e.g. a block), every strided layer whose
stride-1 output has the same grid and stride reuses the polyphase component
the first one chose (APS indices / LPS weights), so a main path and its
projection shortcut sample the same phase (the APS paper's residual rule);
without it the block's sum is not a shift of the unshifted sum.

Parameters: 'blur' and 'aps' add none. 'lps' adds one logit network per
downsampling that chooses its own phase, as top-level entries named
``lps_<path of the layer>`` (``layers.LPD``'s ``logit_conv*``); every
original entry is unchanged, so ``{**old_params, **new_lps_params}`` loads old
weights. In training (``apply(..., train=True)``) LPS draws Gumbel noise from
the 'dropout' rng stream (equivlab's training step passes it).

``circular=True`` treats the grid as a torus: blurs pad circularly and the
stride-1 pools wrap around instead of padding. With convs that pad
circularly (``nn.Conv(padding='CIRCULAR')``) and a global pool, the
'aps' / 'lps' model is then *exactly* invariant to every circular shift
(tests/antialias_test.py). With ``circular=False`` blurs pad by reflection
(antialiased-cnns' default) and pools keep their own padding.

What it cannot rewrite, and what happens:

* ``nn.ConvLocal`` with strides > 1 (its kernel depends on the output grid,
  so there is no stride-1 version with the same parameters), non-square
  strides (``(2, 1)``), and strided convs/pools that are not 2-D on
  ``[B, H, W, C]``: a ValueError naming the layer and the reason.
* APS / LPS on a stride-1 map whose ``H`` or ``W`` is not a multiple of the
  stride (e.g. ``nn.max_pool(x, (2, 2), strides=(2, 2))`` with 'VALID'
  padding, which leaves ``H - 1`` rows): a ValueError naming the layer
  (``circular=True`` keeps ``H``).
* Downsampling the interceptor never sees is left as it is: strided slicing
  (``x[:, ::2]``), ``jax.lax.conv_general_dilated`` / ``reduce_window``
  called directly, ``jax.image.resize``, and pools imported by name before
  the call (``from flax.linen import max_pool``: only the attribute
  ``flax.linen.max_pool`` / ``nn.max_pool`` is replaced, and only while the
  wrapped model runs, so this is not thread-safe across concurrent traces).
  :func:`find_strided_ops` lists the strided primitives left in a traced
  model, so a test can assert that nothing was missed.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import flax.linen as nn
from flax.linen import module as module_lib
from flax.linen import pooling as flax_pooling
import jax

from groups import validate
from layers import conv as conv_lib
from layers import padding as padding_lib
from layers import polyphase
from layers import pooling
from models import cnn
from models import registry

METHODS = ('blur', 'aps', 'lps')
APS_NORM = 'l2'  # l1 ties after a blur of a ReLU map (see layers.aps_pool)


def _square_stride(strides: Any, where: str) -> int:
  """The common stride of a 2-D layer (1 when there is none)."""
  if strides is None:
    return 1
  if isinstance(strides, int):
    return strides
  strides = tuple(strides)
  if len(strides) != 2:
    raise ValueError(
        f'antialias can only rewrite 2-D downsampling on [B, H, W, C]; '
        f'{where} has strides {strides}.')
  if strides[0] != strides[1]:
    if max(strides) == 1:
      return 1
    raise ValueError(
        f'antialias needs equal strides along H and W; {where} has strides '
        f'{strides} (blur pooling and polyphase sampling use one stride).')
  return int(strides[0])


@dataclasses.dataclass
class _Rewriter:
  """The state of one call of an :class:`Antialiased` model."""
  owner: 'Antialiased'
  train: bool
  # (enclosing module path, stride-1 grid, stride) -> APS indices / LPS weights
  phases: dict[tuple[Any, ...], jax.Array] = dataclasses.field(
      default_factory=dict)
  pool_counts: dict[tuple[str, ...], int] = dataclasses.field(
      default_factory=dict)

  def downsample(self, y: jax.Array, *, stride: int, where: str,
                 parent_path: tuple[str, ...], name: str) -> jax.Array:
    """Blur-pools / APS / LPS ``y`` ``[B, N_h, N_w, C]`` with ``stride``."""
    owner = self.owner
    if owner.method == 'blur':
      return pooling.blur_pool(
          y, stride=stride, filter_size=owner.filter_size,
          padding='circular' if owner.circular else 'reflect')
    if y.shape[1] % stride or y.shape[2] % stride:
      raise ValueError(
          f"antialias(method={owner.method!r}) needs the stride-1 output of "
          f'{where} to have H and W divisible by the stride {stride} '
          f'(polyphase sampling); got H, W = {y.shape[1]}, {y.shape[2]}. '
          "Use circular=True for 'VALID' pools, even input sizes, or "
          "method='blur'.")
    key = (parent_path, y.shape[1:3], stride)
    if owner.method == 'aps':
      if key not in self.phases:
        self.phases[key] = pooling.aps_indices(
            y, stride=stride, filter_size=owner.filter_size, norm=APS_NORM)
      return pooling.take_polyphase(y, self.phases[key], stride=stride,
                                    filter_size=owner.filter_size)
    if key not in self.phases:
      lpd = polyphase.LPD(stride=stride, filter_size=owner.filter_size,
                          hidden=tuple(owner.lps_hidden),
                          temperature=owner.temperature,
                          train_mode=owner.train_mode, parent=owner,
                          name=name)
      down, self.phases[key] = lpd(y, train=self.train)
      return down
    return polyphase.mix_polyphase(y, self.phases[key], stride=stride,
                         filter_size=owner.filter_size)

  # Convolutions (method interception).

  def intercept(self, next_fun: Callable[..., Any], args, kwargs,
                context: module_lib.InterceptorContext) -> Any:
    module = context.module
    if context.method_name != '__call__' or not isinstance(
        module, (nn.Conv, nn.ConvLocal, conv_lib.Conv)):
      return next_fun(*args, **kwargs)
    path = tuple(module.scope.path) if module.scope else (module.name,)
    where = f"{type(module).__name__} '{'/'.join(path)}'"
    equivlab_conv = isinstance(module, conv_lib.Conv)
    strides = module.stride if equivlab_conv else module.strides
    stride = _square_stride(strides, where)
    if stride == 1:
      return next_fun(*args, **kwargs)
    if isinstance(module, nn.ConvLocal):
      raise ValueError(
          f'antialias cannot rewrite {where} with strides {strides}: '
          'a locally connected layer has one kernel per output position, so '
          'there is no stride-1 version with the same parameters.')
    x = args[0] if args else kwargs.get('inputs')
    if getattr(x, 'ndim', None) != 4:
      raise ValueError(
          f'antialias can only rewrite 2-D convs on [B, H, W, C]; {where} '
          f'got an input of shape {getattr(x, "shape", None)}.')
    if module.is_initializing() and 'params' not in module.variables:
      next_fun(*args, **kwargs)  # creates the parameters (output unused)
    variables = {'params': module.variables['params']}
    stride1 = (module.clone(parent=None, stride=1) if equivlab_conv else
               module.clone(parent=None, strides=1))
    y = stride1.apply(variables, *args, **kwargs)
    return self.downsample(y, stride=stride, where=where,
                           parent_path=path[:-1],
                           name='lps_' + '_'.join(path))

  # Pools (functions: replaced while the model runs).

  def pool(self, original: Callable[..., jax.Array], kind: str
           ) -> Callable[..., jax.Array]:
    def rewritten(inputs, window_shape, strides=None, padding='VALID',
                  **kwargs):
      # pylint: disable-next=protected-access
      stack = module_lib._context.module_stack
      current = stack[-1] if stack else None
      path = tuple(current.scope.path) if current is not None and getattr(
          current, 'scope', None) is not None else ()
      where = f"nn.{kind} in '{'/'.join(path) or '<root>'}'"
      stride = _square_stride(strides, where)
      if stride == 1:
        return original(inputs, window_shape, strides, padding, **kwargs)
      if getattr(inputs, 'ndim', None) != 4 or len(window_shape) != 2:
        raise ValueError(
            f'antialias can only rewrite 2-D pools on [B, H, W, C]; {where} '
            f'got an input of shape {getattr(inputs, "shape", None)} and '
            f'window {window_shape}.')
      if self.owner.circular:
        pads = tuple(padding_lib.same_pads(w) for w in window_shape)
        inputs = padding_lib.pad_spatial(inputs, pads, mode='circular')
        padding = 'VALID'
      y = original(inputs, window_shape, (1, 1), padding, **kwargs)
      count = self.pool_counts.get(path, 0)
      self.pool_counts[path] = count + 1
      return self.downsample(
          y, stride=stride, where=where, parent_path=path,
          name='lps_' + '_'.join(path + (f'{kind}{count}',)))
    return rewritten

  @contextlib.contextmanager
  def active(self) -> Iterator[None]:
    patched = {'max_pool': self.pool(flax_pooling.max_pool, 'max_pool'),
               'avg_pool': self.pool(flax_pooling.avg_pool, 'avg_pool')}
    saved = {name: getattr(nn, name) for name in patched}
    try:
      for name, fn in patched.items():
        setattr(nn, name, fn)
      with nn.intercept_methods(self.intercept):
        yield
    finally:
      for name, fn in saved.items():
        setattr(nn, name, fn)


class Antialiased(nn.Module):
  """``module`` with its downsampling rewritten (see the module docstring).

  Shares ``module``'s scope: ``init`` gives the original parameter tree
  (plus ``lps_*`` entries for 'lps'), and ``apply`` takes the original
  variables. Call it exactly like ``module``; a ``train`` keyword argument,
  if given, is passed on and also switches LPS to Gumbel sampling.

  Attributes:
    module: the model to rewrite (unbound linen module).
    method: 'blur' | 'aps' | 'lps'.
    filter_size: binomial taps of the blur (1..7; for 'aps' / 'lps', of the
      blur before the polyphase choice; 1 = none).
    circular: treat the grid as a torus (circular blur and pools).
    lps_hidden: hidden channels of each LPS logit network.
    temperature: LPS Gumbel-softmax temperature (training).
    train_mode: LPS training mode, 'hard' (straight-through) or 'soft'.
  """
  module: nn.Module
  method: str = 'blur'
  filter_size: int = 3
  circular: bool = False
  lps_hidden: tuple[int, ...] = (8,)
  temperature: float = 1.0
  train_mode: str = 'hard'

  def setup(self):
    nn.share_scope(self, self.module)

  @nn.compact
  def __call__(self, *args, **kwargs):
    _check_options(self)
    rewriter = _Rewriter(self, train=bool(kwargs.get('train', False)))
    with rewriter.active():
      return self.module(*args, **kwargs)


def _check_options(owner) -> None:
  if not isinstance(owner.module, nn.Module):
    raise ValueError(f'module must be a flax.linen.Module; got '
                     f'{owner.module!r}.')
  validate.check_choice(owner.method, 'method', METHODS)
  pooling.binomial_filter(owner.filter_size)  # validates filter_size 1..7
  if not isinstance(owner.circular, bool):
    raise ValueError(f'circular must be True or False; got '
                     f'{owner.circular!r}.')
  validate.check_choice(owner.train_mode, 'train_mode', polyphase.TRAIN_MODES)
  validate.number(owner.temperature, 'temperature', minimum=0.0,
                  exclusive_minimum=True)


def antialias(module: nn.Module, *, method: str = 'blur',
              filter_size: int = 3, circular: bool = False,
              lps_hidden: tuple[int, ...] = (8,), temperature: float = 1.0,
              train_mode: str = 'hard') -> Antialiased:
  """Returns ``module`` with every strided conv / max pool / avg pool rewritten.

  Args:
    module: an unbound linen module, e.g. a flax-examples ResNet.
    method: 'blur' (BlurPool, Zhang 2019), 'aps' (Chaman & Dokmanic 2021)
      or 'lps' (Rojas-Gomez et al. 2022).
    filter_size: binomial taps, 1..7 (see :class:`Antialiased`).
    circular: treat the grid as a torus (needed for exact APS/LPS
      invariance; pair it with ``padding='CIRCULAR'`` convs).
    lps_hidden: hidden channels of each LPS logit network.
    temperature: LPS Gumbel-softmax temperature (> 0).
    train_mode: LPS training mode, 'hard' or 'soft'.

  Returns:
    An :class:`Antialiased` module; ``init`` / ``apply`` as ``module``'s,
    with the same parameter tree (plus ``lps_*`` entries for 'lps').

  Raises:
    ValueError: for a bad option (at once), and when the model runs, for a
      layer it cannot rewrite (module docstring).
  """
  wrapped = Antialiased(module=module, method=method, filter_size=filter_size,
                        circular=circular,
                        lps_hidden=tuple(lps_hidden) if isinstance(
                            lps_hidden, (list, tuple)) else lps_hidden,
                        temperature=temperature, train_mode=train_mode)
  _check_options(wrapped)
  return wrapped


# A registered example: equivlab's ResNet through the drop-in.

RESNET_METHODS = ('none',) + METHODS


@registry.register_model('antialiased_resnet')
class AntialiasedResNet(nn.Module):
  """:class:`models.ResNet` with strided convs, rewritten by :func:`antialias`.

  ``method='none'`` is the plain strided ResNet (the baseline); 'blur',
  'aps' and 'lps' are that same network through :func:`antialias` (with
  ``circular=padding == 'circular'``), so every variant has the baseline's
  parameter tree (plus ``lps_*`` logit networks for 'lps') and one seed
  gives them the same initial weights. The blur / polyphase choice sits
  right after each strided conv run at stride 1 (before its batch norm);
  the projection shortcut of a block shares the main path's phase.

  Attributes:
    num_classes, widths, blocks_per_stage, head, padding, bn_momentum: as
      :class:`models.ResNet`.
    method: 'none' | 'blur' | 'aps' | 'lps'.
    filter_size: binomial taps (1..7) of the blur ('blur') or of the blur
      before the polyphase choice ('aps', 'lps').
    lps_hidden, temperature, train_mode: LPS options (:func:`antialias`).
  """
  num_classes: int = 10
  widths: tuple[int, ...] = (16, 32, 64)
  blocks_per_stage: int = 1
  head: str = 'global_avg'
  padding: str = 'circular'
  bn_momentum: float = 0.9
  method: str = 'blur'
  filter_size: int = 3
  lps_hidden: tuple[int, ...] = (8,)
  temperature: float = 1.0
  train_mode: str = 'hard'

  def setup(self):
    validate.check_choice(self.method, 'method', RESNET_METHODS)
    base = cnn.ResNet(num_classes=self.num_classes, widths=self.widths,
                      blocks_per_stage=self.blocks_per_stage,
                      downsampling='strided_conv', head=self.head,
                      padding=self.padding, bn_momentum=self.bn_momentum)
    if self.method == 'none':
      self.network = base
    else:
      self.network = antialias(
          base, method=self.method, filter_size=self.filter_size,
          circular=self.padding == 'circular', lps_hidden=self.lps_hidden,
          temperature=self.temperature, train_mode=self.train_mode)
    nn.share_scope(self, self.network)

  def __call__(self, x: jax.Array, *, train: bool = False) -> jax.Array:
    """Maps ``x`` ``[B, H, W, C]`` to logits ``[B, num_classes]``."""
    return self.network(x, train=train)


# Auditing what is left.

_STRIDED = {
    'conv_general_dilated': 'window_strides',
    'reduce_window_max': 'window_strides',
    'reduce_window_sum': 'window_strides',
    'reduce_window_min': 'window_strides',
    'reduce_window': 'window_strides',
    'slice': 'strides',
}


def _walk(jaxpr) -> Iterator[Any]:
  for eqn in jaxpr.eqns:
    yield eqn
    for value in eqn.params.values():
      for sub in value if isinstance(value, (list, tuple)) else (value,):
        inner = getattr(sub, 'jaxpr', sub)
        if hasattr(inner, 'eqns'):
          yield from _walk(inner)


def find_strided_ops(fn: Callable[..., Any], *args, **kwargs) -> list[str]:
  """The strided primitives in ``fn(*args, **kwargs)``'s jaxpr.

  Lists every convolution, reduce-window or slice with a stride > 1 (the
  ops that subsample on a fixed phase), e.g. to check that
  :func:`antialias` left none: ``find_strided_ops(lambda x:
  smooth.apply(variables, x), x) == []``.

  Returns:
    One ``'<primitive> strides=<strides>'`` string per strided op.
  """
  validate.check_callable(fn, 'fn', what='of arrays')
  jaxpr = jax.make_jaxpr(fn)(*args, **kwargs).jaxpr
  found = []
  for eqn in _walk(jaxpr):
    key = _STRIDED.get(eqn.primitive.name)
    strides = eqn.params.get(key) if key else None
    if strides is not None and any(s > 1 for s in strides):
      found.append(f'{eqn.primitive.name} strides={tuple(strides)}')
  return found
