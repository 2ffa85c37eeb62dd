"""oneDNN convolutions for XLA:CPU: build, load and JAX primitives.

XLA:CPU computes convolutions with Eigen; PyTorch on the same CPU calls
oneDNN, which is faster for the shapes of this project's models
(``docs/performance.md``). This module puts oneDNN under equivlab's core
convolution (``layers/conv_lowering.py``: ``x [B, H, W, C]``, ``kernel
[kh, kw, C / G, D]``, zero pads, strides, dilations, G feature groups):

* ``layers/onednn_conv.cc`` holds three XLA FFI handlers — the forward pass,
  the input gradient ("backward data") and the filter gradient ("backward
  weights") — with oneDNN primitives cached per shape.
* On first use it is compiled with the system C++ compiler (``$CXX``, else
  ``c++``/``g++``/``clang++``) against the oneDNN of the ``onednn-cpu-gomp``
  and ``onednn-devel-cpu-gomp`` wheels (or ``$EQUIVLAB_ONEDNN_ROOT``, a
  prefix with ``include/oneapi/dnnl`` and ``lib/libdnnl.so*``) into
  ``$XDG_CACHE_HOME/equivlab/onednn/`` (``~/.cache/...``), one file per hash
  of the source, the compiler, oneDNN and jax: an edited source or a new jax
  builds anew (where that folder cannot be written: the system's temporary
  folder). The file is written under a temporary name and renamed, so two
  processes building at once both end with a whole library.
* Where there is no compiler, no oneDNN, another platform than Linux x86-64,
  or the build fails, :func:`available` is False after a one-line warning,
  and every convolution stays on XLA. ``EQUIVLAB_ONEDNN=0`` skips the
  attempt.

The three calls are JAX primitives (``forward_p``, ``backward_data_p``,
``backward_weights_p``), each bilinear with the other two as its transposes,
like ``lax.conv_general_dilated``; so ``jit``, ``grad``, ``jvp``, ``vmap``,
``linear_transpose`` and derivatives of any order work. (A ``custom_vjp``
would lose forward mode, which the Lie-derivative code uses, and
``custom_derivatives.linear_call`` has no batching rule in jax 0.10.)
Under ``vmap`` an axis on the activations alone is folded into the batch
(one oneDNN call); an axis on the kernel runs the calls in sequence
(``lax.map``).

Float32 only; zero pads >= 0. :func:`supports` says whether a convolution
qualifies.
"""

from __future__ import annotations

from collections.abc import Callable
import ctypes
import functools
import hashlib
import importlib.metadata
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from absl import logging
import jax
from jax import lax
from jax.extend import core as jex_core
from jax.interpreters import ad
from jax.interpreters import batching
from jax.interpreters import mlir
import jax.numpy as jnp
import numpy as np

from layers import padding as padding_lib

SWITCH = 'EQUIVLAB_ONEDNN'
ROOT_ENV_VAR = 'EQUIVLAB_ONEDNN_ROOT'
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      'onednn_conv.cc')
HANDLERS = ('forward', 'backward_data', 'backward_weights')
COMPILE_FLAGS = ('-O2', '-std=c++17', '-shared', '-fPIC', '-fopenmp', '-w')

_lock = threading.Lock()
_state: dict = {}  # 'library', 'names', 'error', 'build_seconds', 'path'


# ----------------------------------------------------------------------------
# Finding, building and loading the handler library.


def _prefixes() -> list[str]:
  """Where to look for oneDNN's ``include/`` and ``lib/``, first match wins."""
  found = []
  if os.environ.get(ROOT_ENV_VAR):
    found.append(os.environ[ROOT_ENV_VAR])
  for distribution in ('onednn-devel-cpu-gomp', 'onednn-cpu-gomp'):
    try:
      files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
      continue
    for file in files:
      path = str(file.locate())
      if path.endswith(os.path.join('include', 'oneapi', 'dnnl', 'dnnl.hpp')):
        found.append(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.normpath(path))))))
  found += [sys.prefix, sys.base_prefix, '/usr/local', '/usr']
  return list(dict.fromkeys(os.path.normpath(p) for p in found))


def find_onednn() -> tuple[str, str] | None:
  """``(include_dir, lib_dir)`` of a oneDNN 3.x with its headers, or None."""
  for prefix in _prefixes():
    include = os.path.join(prefix, 'include')
    lib = os.path.join(prefix, 'lib')
    if (os.path.exists(os.path.join(include, 'oneapi', 'dnnl', 'dnnl.hpp')) and
        any(name.startswith('libdnnl.so')
            for name in (os.listdir(lib) if os.path.isdir(lib) else ()))):
      return include, lib
  return None


def find_compiler() -> str | None:
  """The C++ compiler to build with: ``$CXX``, else the first on ``PATH``."""
  names = [os.environ['CXX']] if os.environ.get('CXX') else []
  for name in names + ['c++', 'g++', 'clang++']:
    path = shutil.which(name)
    if path:
      return path
  return None


def cache_dir() -> str:
  base = os.environ.get('XDG_CACHE_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache')
  return os.path.join(base, 'equivlab', 'onednn')


def _onednn_version(lib_dir: str) -> str:
  names = sorted(n for n in os.listdir(lib_dir) if n.startswith('libdnnl.so'))
  return names[-1] if names else '?'


def library_key(compiler: str, include: str, lib: str) -> str:
  """Hash of what the built library depends on (names its file)."""
  with open(SOURCE, 'rb') as f:
    source = f.read()
  parts = [source, compiler.encode(), include.encode(), lib.encode(),
           _onednn_version(lib).encode(), jax.__version__.encode(),
           jax.ffi.include_dir().encode(), ' '.join(COMPILE_FLAGS).encode()]
  return hashlib.sha256(b'\0'.join(parts)).hexdigest()[:16]


def build(compiler: str, include: str, lib: str, directory: str) -> str:
  """Compiles the handlers into ``directory`` (if not there yet); its path.

  Raises:
    RuntimeError: with the compiler's message if the build fails.
  """
  key = library_key(compiler, include, lib)
  path = os.path.join(directory, f'equivlab_onednn_{key}.so')
  if os.path.exists(path):
    return path
  os.makedirs(directory, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=directory, suffix='.so.tmp')
  os.close(fd)
  command = [compiler, *COMPILE_FLAGS, SOURCE, '-isystem',
             jax.ffi.include_dir(), '-isystem', include, '-L', lib, '-ldnnl',
             f'-Wl,-rpath,{lib}', '-o', tmp]
  try:
    result = subprocess.run(command, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
      raise RuntimeError(f'{" ".join(command)} failed: '
                         f'{result.stderr.strip()[-2000:]}')
    os.replace(tmp, path)  # atomic: another process sees all or nothing
  finally:
    if os.path.exists(tmp):
      os.remove(tmp)
  return path


def _build_somewhere(compiler: str, include: str, lib: str) -> str:
  """:func:`build` into :func:`cache_dir`, else (not writable) a temp folder."""
  try:
    return build(compiler, include, lib, cache_dir())
  except OSError:
    fallback = os.path.join(tempfile.gettempdir(),
                            f'equivlab-onednn-{os.getuid()}')
    return build(compiler, include, lib, fallback)


def _unavailable_reason() -> str | None:
  if os.environ.get(SWITCH, '').strip().lower() in ('0', 'off', 'false', 'no'):
    return f'{SWITCH}=0'
  if platform.system() != 'Linux' or platform.machine() not in ('x86_64',
                                                                'AMD64'):
    return f'not built for {platform.system()} {platform.machine()}'
  if jax.default_backend() != 'cpu':
    return f'the default backend is {jax.default_backend()}, not cpu'
  return None


def load() -> bool:
  """Builds (once per hash) and registers the handlers; whether it worked.

  Never raises: a failure logs one warning line and leaves XLA in charge.
  """
  with _lock:
    if 'library' in _state or 'error' in _state:
      return 'library' in _state
    reason = _unavailable_reason()
    compiler = find_compiler()
    paths = find_onednn()
    if reason is None and compiler is None:
      reason = 'no C++ compiler ($CXX, c++, g++, clang++)'
    if reason is None and paths is None:
      reason = ('no oneDNN found (pip install onednn-cpu-gomp '
                f'onednn-devel-cpu-gomp, or set {ROOT_ENV_VAR})')
    if reason is None:
      try:
        start = time.perf_counter()
        path = _build_somewhere(compiler, *paths)
        _state['build_seconds'] = time.perf_counter() - start
        library = ctypes.CDLL(path)
        key = os.path.basename(path)[len('equivlab_onednn_'):-len('.so')]
        names = {}
        for handler in HANDLERS:
          names[handler] = f'equivlab_onednn_conv_{handler}_{key}'
          jax.ffi.register_ffi_target(
              names[handler],
              jax.ffi.pycapsule(getattr(library,
                                        f'equivlab_onednn_conv_{handler}')),
              platform='cpu')
        library.equivlab_onednn_set_threads(ctypes.c_int(default_threads()))
        _state.update(library=library, names=names, path=path)
        return True
      except Exception as error:  # pylint: disable=broad-except
        reason = f'{type(error).__name__}: {error}'
    _state['error'] = reason
    logging.warning('oneDNN convolutions off, XLA computes them: %s',
                    reason.splitlines()[0][:300])
    return False


def available() -> bool:
  """Whether the oneDNN convolutions can run in this process (builds once)."""
  return load()


def unavailable_reason() -> str | None:
  """Why :func:`available` is False (None when it is True or not tried)."""
  return _state.get('error')


def build_seconds() -> float | None:
  """Seconds the first :func:`load` of this process spent building/loading."""
  return _state.get('build_seconds')


def default_threads() -> int:
  """The cores this process may run on (its CPU affinity)."""
  try:
    return len(os.sched_getaffinity(0))
  except AttributeError:
    return os.cpu_count() or 1


def set_threads(threads: int) -> None:
  """OpenMP team size of every later oneDNN convolution (0: OpenMP's own)."""
  if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
    raise ValueError(f'threads must be an int >= 0; got {threads!r}.')
  if load():
    _state['library'].equivlab_onednn_set_threads(ctypes.c_int(threads))


def cached_configurations() -> int:
  """How many (role, shape) primitives the library holds; 0 if not loaded."""
  if 'library' not in _state:
    return 0
  return int(_state['library'].equivlab_onednn_cache_size())


def version() -> str | None:
  """The installed oneDNN wheel's version, None when there is none."""
  try:
    return importlib.metadata.version('onednn-cpu-gomp')
  except importlib.metadata.PackageNotFoundError:
    return None


# ----------------------------------------------------------------------------
# The convolution: geometry and primitives.


def supports(x_shape, kernel_shape, dtype, *, padding) -> bool:
  """Whether oneDNN can compute this core convolution (float32, pads >= 0)."""
  if np.dtype(dtype) != np.float32:
    return False
  if not isinstance(padding, str) and any(p < 0 for pair in padding
                                          for p in pair):
    return False
  return len(x_shape) == 4 and len(kernel_shape) == 4


def _params(x_shape, kernel_shape, *, strides, padding, dilations, groups):
  """Hashable primitive params, the far pads trimmed to what the strides use.

  oneDNN wants ``H + pt + pb = (H' - 1) sh + dh (kh - 1) + 1`` exactly;
  XLA allows trailing rows the strides skip. Those are trimmed from the far
  pad, then (if the pad is used up) from the input (``crop``).
  """
  pads = padding_lib.explicit_pads(padding)
  out_size = padding_lib.conv_output_size(
      x_shape, kernel_shape, strides=strides, padding=pads,
      dilations=dilations)
  new_pads, crop = [], []
  for axis in range(2):
    size, k = x_shape[1 + axis], kernel_shape[axis]
    s, d = strides[axis], dilations[axis]
    lo, hi = pads[axis]
    extra = size + lo + hi - ((out_size[axis] - 1) * s + d * (k - 1) + 1)
    trim_pad = min(extra, hi)
    new_pads.append((lo, hi - trim_pad))
    crop.append(extra - trim_pad)
  return dict(strides=tuple(int(s) for s in strides), pads=tuple(new_pads),
              dilations=tuple(int(d) for d in dilations), groups=int(groups)), \
      tuple(crop)


def _attributes(strides, pads, dilations, groups) -> dict:
  (pt, pb), (pl, pr) = pads
  values = dict(sh=strides[0], sw=strides[1], pt=pt, pb=pb, pl=pl, pr=pr,
                dh=dilations[0], dw=dilations[1], g=groups)
  return {k: np.int64(v) for k, v in values.items()}


# Three bilinear primitives; each one's transposes are the other two, as for
# lax.conv_general_dilated (ad.defbilinear gives the JVPs and transposes).
forward_p = jex_core.Primitive('equivlab_onednn_conv_forward')
backward_data_p = jex_core.Primitive('equivlab_onednn_conv_backward_data')
backward_weights_p = jex_core.Primitive(
    'equivlab_onednn_conv_backward_weights')
_PRIMITIVES = dict(zip(HANDLERS, (forward_p, backward_data_p,
                                  backward_weights_p)))


def _forward_abstract(x, kernel, *, strides, pads, dilations, groups):
  del groups
  out_h, out_w = padding_lib.conv_output_size(
      x.shape, kernel.shape, strides=strides, padding=pads,
      dilations=dilations)
  return jax.core.ShapedArray((x.shape[0], out_h, out_w, kernel.shape[3]),
                              x.dtype)


def _backward_data_abstract(dy, kernel, *, input_size, strides, pads,
                            dilations, groups):
  del strides, pads, dilations
  return jax.core.ShapedArray(
      (dy.shape[0], *input_size, kernel.shape[2] * groups), dy.dtype)


def _backward_weights_abstract(x, dy, *, kernel_size, strides, pads,
                               dilations, groups):
  del strides, pads, dilations
  return jax.core.ShapedArray(
      (*kernel_size, x.shape[3] // groups, dy.shape[3]), x.dtype)


forward_p.def_abstract_eval(_forward_abstract)
backward_data_p.def_abstract_eval(_backward_data_abstract)
backward_weights_p.def_abstract_eval(_backward_weights_abstract)


def _geometry(params):
  return {k: params[k] for k in ('strides', 'pads', 'dilations', 'groups')}


def _shape(value):
  """The shape of an operand, an undefined primal or a gradient accumulator."""
  return value.aval.shape if hasattr(value, 'aval') else value.shape


# forward(x, k): x^T: ct -> backward_data(ct, k); k^T: backward_weights(x, ct).
ad.defbilinear(
    forward_p,
    lambda ct, x, k, **p: backward_data_p.bind(
        ct, k, input_size=tuple(_shape(x)[1:3]), **p),
    lambda ct, x, k, **p: backward_weights_p.bind(
        x, ct, kernel_size=tuple(_shape(k)[:2]), **p))
# backward_data(dy, k): dy^T: forward(ct, k); k^T: backward_weights(ct, dy).
ad.defbilinear(
    backward_data_p,
    lambda ct, dy, k, **p: forward_p.bind(ct, k, **_geometry(p)),
    lambda ct, dy, k, **p: backward_weights_p.bind(
        ct, dy, kernel_size=tuple(_shape(k)[:2]), **_geometry(p)))
# backward_weights(x, dy): x^T: backward_data(dy, ct); dy^T: forward(x, ct).
ad.defbilinear(
    backward_weights_p,
    lambda ct, x, dy, **p: backward_data_p.bind(
        dy, ct, input_size=tuple(_shape(x)[1:3]), **_geometry(p)),
    lambda ct, x, dy, **p: forward_p.bind(x, ct, **_geometry(p)))


def _lowering(handler):
  def rule(ctx, *operands, strides, pads, dilations, groups, **_):
    if not load():
      raise RuntimeError(f'oneDNN convolutions are unavailable: '
                         f'{unavailable_reason()}')
    return jax.ffi.ffi_lowering(_state['names'][handler])(
        ctx, *operands, **_attributes(strides, pads, dilations, groups))
  return rule


@functools.lru_cache(maxsize=None)
def _jitted_bind(primitive, frozen_params: tuple) -> Callable:
  """One jitted ``primitive.bind`` per set of parameters: jit's own cache
  then compiles once per operand shape. (A new ``jax.jit`` per eager call,
  as before, compiled the same program again on every call.)"""
  return jax.jit(functools.partial(primitive.bind, **dict(frozen_params)))


def _eager(primitive, *args, **params):
  """The impl rule: an eager call runs the primitive's compiled program."""
  return _jitted_bind(primitive, tuple(sorted(params.items())))(*args)


for _handler, _primitive in _PRIMITIVES.items():
  _primitive.def_impl(functools.partial(_eager, _primitive))
  mlir.register_lowering(_primitive, _lowering(_handler), platform='cpu')


def _fold_batch(primitive, args, dims, params):
  """An axis on the activations only: fold it into B, one oneDNN call."""
  activation = jnp.moveaxis(args[0], dims[0], 0)
  v, b = activation.shape[:2]
  out = primitive.bind(activation.reshape((v * b,) + activation.shape[2:]),
                       args[1], **params)
  return out.reshape((v, b) + out.shape[1:]), 0


def _map_batch(primitive, args, dims, params):
  """Any other batching: one call per element of the batched axis."""
  size = next(a.shape[d] for a, d in zip(args, dims)
              if d is not None)
  moved = [jnp.broadcast_to(a, (size,) + a.shape)
           if d is None else jnp.moveaxis(a, d, 0)
           for a, d in zip(args, dims)]
  return lax.map(lambda pair: primitive.bind(*pair, **params),
                 tuple(moved)), 0


def _batcher(primitive, foldable):
  def rule(args, dims, **params):
    if foldable and dims[1] is None:
      return _fold_batch(primitive, args, dims, params)
    return _map_batch(primitive, args, dims, params)
  return rule


batching.primitive_batchers[forward_p] = _batcher(forward_p, True)
batching.primitive_batchers[backward_data_p] = _batcher(backward_data_p, True)
batching.primitive_batchers[backward_weights_p] = _batcher(
    backward_weights_p, False)


def conv(x: jax.Array, kernel: jax.Array, *, strides, padding, dilations,
         groups: int = 1) -> jax.Array:
  """The core convolution on oneDNN (differentiable, batchable).

  Args:
    x: ``[B, H, W, C]`` float32.
    kernel: ``[kh, kw, C / groups, D]`` float32, ``D`` divisible by groups.
    strides: ``(sh, sw)`` >= 1.
    padding: 'VALID' or zero pads ``((top, bottom), (left, right))`` >= 0.
    dilations: ``(dh, dw)`` >= 1.
    groups: feature groups (``lax.conv_general_dilated``'s
      ``feature_group_count``).

  Returns:
    ``[B, H', W', D]``, equal to ``lax.conv_general_dilated`` on NHWC/HWIO
    within float32 rounding (another summation order).

  Raises:
    ValueError: on shapes, dtypes or options oneDNN cannot take (see
      :func:`supports`), or when the library is not available.
  """
  x, kernel = jnp.asarray(x), jnp.asarray(kernel)
  if x.ndim != 4 or kernel.ndim != 4:
    raise ValueError('x must be [B, H, W, C] and kernel [kh, kw, C_in, C_out]'
                     f'; got shapes {x.shape} and {kernel.shape}.')
  if not supports(x.shape, kernel.shape, x.dtype, padding=padding) or (
      kernel.dtype != x.dtype):
    raise ValueError('x and kernel must be float32 with zero pads >= 0 for '
                     f'oneDNN; got {x.dtype}, {kernel.dtype}, padding '
                     f'{padding!r}.')
  if (not isinstance(groups, int) or groups < 1 or x.shape[3] != groups *
      kernel.shape[2] or kernel.shape[3] % groups):
    raise ValueError(f'groups must be an int >= 1 with C = groups * C_in and '
                     f'C_out divisible by it; got groups={groups!r}, x '
                     f'{x.shape}, kernel {kernel.shape}.')
  if not available():
    raise ValueError(f'oneDNN convolutions are unavailable: '
                     f'{unavailable_reason()}')
  params, crop = _params(x.shape, kernel.shape, strides=strides,
                         padding=padding, dilations=dilations, groups=groups)
  if any(crop):
    x = x[:, :x.shape[1] - crop[0], :x.shape[2] - crop[1]]
  return forward_p.bind(x, kernel, **params)
