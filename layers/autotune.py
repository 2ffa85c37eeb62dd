"""Autotuned convolution lowering, like cuDNN's benchmark mode.

When tuning is on, :func:`layers.conv2d` (and so every group, harmonic and
steerable convolution, which call it) asks :func:`choose` which lowering of
:mod:`layers.conv_lowering` to use for the forward pass, the input gradient
and the filter gradient of its core convolution. The first time a
configuration is seen — shapes, dtype, zero pads, strides, dilations — on a
machine (device kind, CPU model and feature flags, jax version, XLA_FLAGS),
each candidate is compiled alone and timed on random data of that shape
(a warm-up, then ``repeats`` alternating rounds, median), and the fastest is
kept: in memory and, optionally, in a JSON file shared by later processes.
This runs while the caller is being traced, on concrete shapes, outside the
trace. Convolutions under ``min_flops`` (default 1e8) keep the default.

Every candidate computes the same sums, so a choice changes results only
within float32 rounding; but it does change them, so a run that must be
reproduced bit for bit records its choices (:func:`export_choices`) and
loads them again (:func:`load_choices`) before tracing. Loaded choices are
pinned: they win over the file and are never re-timed.

Switches, strongest first: :func:`configure` (``enabled=True/False``), the
environment variable ``EQUIVLAB_AUTOTUNE`` (``0`` / ``1``), and
:data:`DEFAULT_ENABLED`. When off, conv2d uses the fixed default lowering
of the backend (below). A jitted function keeps the choice made when it was
traced: configure tuning before the first call.

The convolution backend — :func:`configure` (``backend=...``), else
``$EQUIVLAB_CONV_BACKEND``, else :data:`DEFAULT_BACKEND`:

* ``'auto'`` — oneDNN (:mod:`layers.onednn`) for every float32 convolution
  it takes when its library is available, XLA for the rest; with tuning on,
  ``'onednn'`` is one more candidate of each role.
* ``'onednn'`` — oneDNN for every convolution it takes, tuning or not.
* ``'xla'`` — never oneDNN (the lowerings of XLA ops only).

Where oneDNN is unavailable (no compiler or library, another platform,
``EQUIVLAB_ONEDNN=0``) every setting computes with XLA, after one warning.
As with tuning, a traced function keeps the backend it was traced with —
including jitted helpers inside layers (``layers.harmonic``'s conv): set the
backend before the first call, or ``jax.clear_caches()`` after changing it.

The choice file is ``$EQUIVLAB_AUTOTUNE_CACHE`` if set (empty: no file), else
``$XDG_CACHE_HOME/equivlab/conv_autotune.json`` (``~/.cache/...``); choices
are stored per machine key, so one file can serve several machines.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import statistics
import tempfile
import threading
import time
from typing import Any

from absl import logging
import jax
import numpy as np

from layers import conv_lowering
from layers import padding as padding_lib

ENV_VAR = 'EQUIVLAB_AUTOTUNE'
CACHE_ENV_VAR = 'EQUIVLAB_AUTOTUNE_CACHE'
FILE_VERSION = 1
# Off by default: on this project's AVX-512 machine XLA's convolution won
# (or tied) every role for the models' shapes, so tuning only added its own
# time and rounding-level differences between runs (docs/performance.md).
DEFAULT_ENABLED = False
BACKEND_ENV_VAR = 'EQUIVLAB_CONV_BACKEND'
BACKENDS = ('auto', 'onednn', 'xla')
DEFAULT_BACKEND = 'auto'
ONEDNN_CHOICE = conv_lowering.Choice('onednn', 'onednn', 'onednn')

Choice = conv_lowering.Choice


@dataclasses.dataclass
class Settings:
  """How :func:`choose` behaves; change with :func:`configure`.

  Attributes:
    enabled: True / False, or None to follow ``$EQUIVLAB_AUTOTUNE`` and then
      :data:`DEFAULT_ENABLED`.
    cache_file: path of the JSON choice file; '' for none; None for the
      default (see the module docstring).
    min_flops: convolutions with fewer forward FLOPs keep the default
      lowering untimed (tuning would cost more than it could save).
    repeats: timed calls per candidate (after one warm-up call); the median
      counts.
    force: a :class:`Choice` every convolution uses, tuning on or off (for
      tests and benchmarks of one lowering); None to tune.
    margin: a lowering replaces the backend's fixed one (``'onednn'`` or
      ``'xla'``) only if its median is at least this fraction faster
      (timings on a shared machine are noisy).
    backend: 'auto', 'onednn' or 'xla' (see the module docstring), or None
      to follow ``$EQUIVLAB_CONV_BACKEND`` and then :data:`DEFAULT_BACKEND`.
  """
  enabled: bool | None = None
  cache_file: str | None = None
  min_flops: float = 1e8
  repeats: int = 5
  force: Choice | None = None
  margin: float = 0.1
  backend: str | None = None


_settings = Settings()
_lock = threading.RLock()
_choices: dict[str, Choice] = {}        # conv key -> choice, this machine
_timings: dict[str, dict[str, dict[str, float]]] = {}  # conv key -> role -> ms
_pinned: set[str] = set()               # keys set by load_choices
_loaded_file: str | None = None         # the file whose entries are merged


def configure(**changes: Any) -> dict[str, Any]:
  """Changes the tuning settings (keywords: the fields of :class:`Settings`).

  Returns:
    The previous values of the changed settings (pass them back to undo).

  Raises:
    ValueError: on an unknown setting or a value of the wrong kind.
  """
  fields = {f.name for f in dataclasses.fields(Settings)}
  unknown = sorted(set(changes) - fields)
  if unknown:
    raise ValueError(f'settings must be among {sorted(fields)}; got '
                     f'{unknown}.')
  if 'enabled' in changes and changes['enabled'] not in (None, True, False):
    raise ValueError(f"enabled must be True, False or None; got "
                     f"{changes['enabled']!r}.")
  if 'repeats' in changes and (not isinstance(changes['repeats'], int) or
                               changes['repeats'] < 1):
    raise ValueError(f"repeats must be an int >= 1; got "
                     f"{changes['repeats']!r}.")
  if 'margin' in changes and not (
      isinstance(changes['margin'], (int, float)) and
      0 <= changes['margin'] < 1):
    raise ValueError(f"margin must be in [0, 1); got {changes['margin']!r}.")
  if 'min_flops' in changes and not (
      isinstance(changes['min_flops'], (int, float)) and
      changes['min_flops'] >= 0):
    raise ValueError(f"min_flops must be >= 0; got {changes['min_flops']!r}.")
  if 'force' in changes and not isinstance(changes['force'],
                                           (Choice, type(None))):
    raise ValueError(f"force must be a Choice or None; got "
                     f"{changes['force']!r}.")
  if 'backend' in changes and changes['backend'] not in BACKENDS + (None,):
    raise ValueError(f"backend must be one of {BACKENDS} or None; got "
                     f"{changes['backend']!r}.")
  if 'cache_file' in changes and not isinstance(changes['cache_file'],
                                                (str, type(None))):
    raise ValueError(f"cache_file must be a path, '' or None; got "
                     f"{changes['cache_file']!r}.")
  with _lock:
    previous = {name: getattr(_settings, name) for name in changes}
    for name, value in changes.items():
      setattr(_settings, name, value)
    return previous


@contextlib.contextmanager
def settings(**changes: Any) -> Iterator[None]:
  """``with autotune.settings(enabled=True):`` — :func:`configure`, then undo."""
  previous = configure(**changes)
  try:
    yield
  finally:
    configure(**previous)


def enabled() -> bool:
  """Whether :func:`choose` tunes now (settings, then env var, then default)."""
  if _settings.enabled is not None:
    return _settings.enabled
  value = os.environ.get(ENV_VAR, '').strip().lower()
  if value in ('0', 'false', 'off', 'no'):
    return False
  if value in ('1', 'true', 'on', 'yes'):
    return True
  return DEFAULT_ENABLED


def backend() -> str:
  """The convolution backend asked for: settings, env var, then default.

  Raises:
    ValueError: if ``$EQUIVLAB_CONV_BACKEND`` is not one of :data:`BACKENDS`.
  """
  if _settings.backend is not None:
    return _settings.backend
  value = os.environ.get(BACKEND_ENV_VAR, '').strip().lower()
  if not value:
    return DEFAULT_BACKEND
  if value not in BACKENDS:
    raise ValueError(f'{BACKEND_ENV_VAR} must be one of {BACKENDS}; got '
                     f'{value!r}.')
  return value


def onednn_in_use(x_shape, kernel_shape, dtype, *, padding) -> bool:
  """Whether the backend lets oneDNN compute this conv and it can."""
  return backend() != 'xla' and conv_lowering.onednn_supported(
      x_shape, kernel_shape, dtype, padding=padding)


def describe_backend() -> str:
  """One line for logs: which backend float32 convolutions run on and why.

  Builds or loads the oneDNN library if the backend may use it (so call it
  where that cost may show, e.g. once at start-up).
  """
  asked = backend()
  if asked == 'xla':
    return 'convolutions: XLA (backend xla)'
  if conv_lowering.onednn.available():
    seconds = conv_lowering.onednn.build_seconds() or 0.0
    return (f'convolutions: oneDNN {conv_lowering.onednn.version()} for '
            f'float32 (backend {asked}; library ready in {seconds:.1f} s)')
  return (f'convolutions: XLA (backend {asked}, oneDNN unavailable: '
          f'{conv_lowering.onednn.unavailable_reason()})')


def cache_file() -> str:
  """The choice file in use, '' when there is none."""
  if _settings.cache_file is not None:
    return _settings.cache_file
  if CACHE_ENV_VAR in os.environ:
    return os.environ[CACHE_ENV_VAR]
  base = os.environ.get('XDG_CACHE_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache')
  return os.path.join(base, 'equivlab', 'conv_autotune.json')


def _cpu_info() -> tuple[str, list[str]]:
  model, flags = platform.processor() or platform.machine(), []
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          model = line.split(':', 1)[1].strip()
        elif line.startswith('flags') and not flags:
          flags = sorted(line.split(':', 1)[1].split())
  except OSError:
    pass
  return model, flags


def cpu_isa() -> str:
  """The widest x86 vector extensions of this CPU, e.g. 'avx2 avx512f'."""
  flags = set(_cpu_info()[1])
  shown = [f for f in ('sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw',
                       'avx512_vnni', 'avx512_bf16', 'amx_tile')
           if f in flags]
  return ' '.join(shown) or platform.machine()


def machine_key() -> str:
  """What a timing depends on besides the conv: device, CPU, jax, XLA_FLAGS."""
  device = jax.devices()[0]
  model, flags = _cpu_info()
  digest = hashlib.sha1(' '.join(flags).encode()).hexdigest()[:10]
  onednn = (f"onednn:{conv_lowering.onednn.version()}|ONEDNN_MAX_CPU_ISA:"
            f"{os.environ.get('ONEDNN_MAX_CPU_ISA', '')}"
            if conv_lowering.onednn.available() else 'onednn:off')
  return (f'{device.platform}:{device.device_kind}|{model}|flags:{digest}|'
          f"jax:{jax.__version__}|XLA_FLAGS:{os.environ.get('XLA_FLAGS', '')}|"
          f'{onednn}')


def conv_key(x_shape: Sequence[int], kernel_shape: Sequence[int], dtype, *,
             strides, padding, dilations) -> str:
  """A stable text key of one core convolution (see :func:`choose`)."""
  pads = 'VALID' if isinstance(padding, str) else ','.join(
      f'{lo}:{hi}' for lo, hi in padding)
  return (f'{np.dtype(dtype).name}|x{"x".join(map(str, x_shape))}|'
          f'k{"x".join(map(str, kernel_shape))}|'
          f's{strides[0]},{strides[1]}|p{pads}|d{dilations[0]},{dilations[1]}')


def forward_flops(x_shape, kernel_shape, *, strides, padding,
                  dilations) -> int:
  """Multiply-adds times 2 of the forward convolution."""
  out_h, out_w = padding_lib.conv_output_size(
      x_shape, kernel_shape, strides=strides, padding=padding,
      dilations=dilations)
  return 2 * x_shape[0] * out_h * out_w * math.prod(kernel_shape)


def choose(x_shape: Sequence[int], kernel_shape: Sequence[int], dtype, *,
           strides, padding, dilations) -> Choice | None:
  """The lowering of one core convolution; None when tuning is off.

  Args:
    x_shape: ``[B, H, W, C]`` of the (already padded) input.
    kernel_shape: ``[kh, kw, C, D]``.
    dtype: the dtype of both.
    strides: ``(sh, sw)``.
    padding: 'VALID' or zero pads ``((top, bottom), (left, right))``.
    dilations: ``(dh, dw)``.

  Returns:
    The forced choice if one is set; else, with tuning off, oneDNN's for
    every role where the backend lets it compute this conv (see
    :func:`onednn_in_use`) and None (XLA) elsewhere; with tuning on, a
    pinned, cached or freshly timed :class:`Choice`, or the backend's default
    for convolutions below ``min_flops`` or with an empty batch.
  """
  if _settings.force is not None:
    return _settings.force
  with_onednn = onednn_in_use(x_shape, kernel_shape, dtype, padding=padding)
  if not enabled() or (with_onednn and backend() == 'onednn'):
    return ONEDNN_CHOICE if with_onednn else None
  options = dict(strides=tuple(strides), padding=padding,
                 dilations=tuple(dilations))
  key = conv_key(x_shape, kernel_shape, dtype, **options)
  with _lock:
    _merge_file()
    if key in _choices:
      return _choices[key]
    if (x_shape[0] == 0 or
        forward_flops(x_shape, kernel_shape, **options) < _settings.min_flops
        # Hosts of a multi-process run must compile the same program; each
        # timing its own candidates could pick different ones.
        or jax.process_count() > 1):
      return ONEDNN_CHOICE if with_onednn else conv_lowering.DEFAULT_CHOICE
    start = time.perf_counter()
    choice, times = tune(x_shape, kernel_shape, dtype, **options,
                         repeats=_settings.repeats, margin=_settings.margin,
                         with_onednn=with_onednn)
    _choices[key], _timings[key] = choice, times
    logging.info('conv autotune %s -> %s, tuned in %.1f s (ms: %s)', key,
                 choice, time.perf_counter() - start, times)
    _save_file()
    return choice


def tune(x_shape: Sequence[int], kernel_shape: Sequence[int], dtype, *,
         strides, padding, dilations, repeats: int = 5, margin: float = 0.0,
         with_onednn: bool = False,
         ) -> tuple[Choice, dict[str, dict[str, float]]]:
  """Times every candidate of every role; no caching.

  ``with_onednn`` adds ``'onednn'`` to the candidates (the caller checks
  that it can run: :func:`onednn_in_use`).

  The fastest candidate of each role wins, but the backend's fixed lowering
  (``'onednn'`` with ``with_onednn``, else ``'xla'``) keeps its role unless
  the fastest is ``margin`` (a fraction) faster than it.

  Returns:
    The fastest :class:`Choice` and ``{role: {lowering: median ms}}`` (a
    candidate dropped for being 3x slower than the best shows its times up
    to then; see :func:`_race`).
  """
  options = dict(strides=tuple(strides), padding=padding,
                 dilations=tuple(dilations))
  out_shape = (x_shape[0], *padding_lib.conv_output_size(
      x_shape, kernel_shape, **options), kernel_shape[3])
  rng = np.random.default_rng(0)
  dtype = np.dtype(dtype)
  with jax.ensure_compile_time_eval():
    x, kernel, dy = (jax.device_put(rng.standard_normal(shape).astype(dtype))
                     for shape in (x_shape, kernel_shape, out_shape))
    times, best = {}, {}
    fixed = ONEDNN_CHOICE if with_onednn else conv_lowering.DEFAULT_CHOICE
    for role in conv_lowering.ROLES:
      names = conv_lowering.candidates(padding, role,
                                       with_onednn=with_onednn)
      calls = {name: _role_call(role, name, x, kernel, dy, options)
               for name in names}
      default = getattr(fixed, role)
      times[role] = _race(calls, repeats=repeats, keep=default)
      fastest = min(names, key=lambda n, r=role: times[r][n])
      keep = times[role][fastest] > (1 - margin) * times[role][default]
      best[role] = default if keep else fastest
  return Choice(**best), times


def _role_call(role, name, x, kernel, dy, options):
  """A compiled zero-argument call computing ``role`` with lowering ``name``."""
  fn = conv_lowering.lowering(name)

  def forward(x, kernel):
    return fn(x, kernel, **options)

  def input_grad(dy, kernel):
    return jax.linear_transpose(lambda x_: fn(x_, kernel, **options), x)(dy)[0]

  def filter_grad(dy, x):
    return jax.linear_transpose(lambda k_: fn(x, k_, **options), kernel)(dy)[0]

  program, args = {'forward': (forward, (x, kernel)),
                   'input_grad': (input_grad, (dy, kernel)),
                   'filter_grad': (filter_grad, (dy, x))}[role]
  compiled = jax.jit(program).lower(*args).compile()
  return lambda: jax.block_until_ready(compiled(*args))


def _race(calls, *, repeats: int, keep: str = 'xla') -> dict[str, float]:
  """Median ms of each call, timed in alternating rounds.

  Round 0 is a timed warm-up (first-run allocations, caches); then
  ``repeats`` rounds call each remaining candidate once, so a slow-down from
  other processes hits all of them alike. A candidate 3x slower than the
  best so far is dropped (its time so far is reported), except ``keep``,
  the default, which one unlucky warm-up must not knock out.
  """
  def timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start

  samples = {name: [timed(call)] for name, call in calls.items()}
  best = min(s[0] for s in samples.values())
  alive = [name for name in calls
           if samples[name][0] <= 3 * best or name == keep]
  for name in alive:
    samples[name] = []
  for _ in range(repeats):
    for name in alive:
      samples[name].append(timed(calls[name]))
    best = min(statistics.median(samples[name]) for name in alive)
    alive = [name for name in alive
             if statistics.median(samples[name]) <= 3 * best or name == keep]
  return {name: 1e3 * statistics.median(times)
          for name, times in samples.items()}


def export_choices() -> dict[str, Any]:
  """This process's choices, to store with a run (JSON-serialisable).

  Returns:
    ``{'version', 'machine', 'enabled', 'backend', 'choices': {conv key:
    {role: lowering}}}``; ``enabled`` is whether tuning is on now,
    ``backend`` the convolution backend (:func:`backend`).
  """
  with _lock:
    return {'version': FILE_VERSION, 'machine': machine_key(),
            'enabled': enabled(), 'backend': backend(),
            'choices': {key: choice.as_dict()
                        for key, choice in sorted(_choices.items())}}


def load_choices(mapping: Mapping[str, Any]) -> None:
  """Pins the choices of :func:`export_choices` (from any machine).

  If ``mapping`` has ``'enabled'`` (``'backend'``), tuning is switched on or
  off (the backend set) as it was (``configure(enabled=..., backend=...)``),
  so a resumed run lowers every convolution as the interrupted one did,
  whatever the environment says now (where oneDNN is available in both).

  Raises:
    ValueError: if ``mapping`` is not such an export.
  """
  if not isinstance(mapping, Mapping) or not isinstance(
      mapping.get('choices'), Mapping):
    raise ValueError('mapping must be an export_choices() dict with a '
                     f"'choices' mapping; got {type(mapping).__name__}.")
  parsed = {}
  for key, roles in mapping['choices'].items():
    if not isinstance(roles, Mapping) or set(roles) != set(
        conv_lowering.ROLES):
      raise ValueError(f'mapping choices[{key!r}] must map each of '
                       f'{conv_lowering.ROLES} to a lowering; got {roles!r}.')
    parsed[key] = Choice(**roles)
  if mapping.get('enabled') not in (None, True, False):
    raise ValueError(f"mapping['enabled'] must be true, false or absent; got "
                     f"{mapping['enabled']!r}.")
  if mapping.get('backend') not in BACKENDS + (None,):
    raise ValueError(f"mapping['backend'] must be one of {BACKENDS} or "
                     f"absent; got {mapping['backend']!r}.")
  with _lock:
    _choices.update(parsed)
    _pinned.update(parsed)
    if mapping.get('enabled') is not None:
      _settings.enabled = mapping['enabled']
    if mapping.get('backend') is not None:
      _settings.backend = mapping['backend']


RUN_FILE = 'conv_autotune.json'


def load_run_choices(workdir: str) -> bool:
  """Loads ``<workdir>/conv_autotune.json`` if it exists (call before tracing).

  Returns:
    Whether a file was loaded (see :func:`load_choices`).
  """
  path = os.path.join(workdir, RUN_FILE)
  if not os.path.exists(path):
    return False
  with open(path) as f:
    load_choices(json.load(f))
  return True


def save_run_choices(workdir: str) -> str:
  """Writes :func:`export_choices` to ``<workdir>/conv_autotune.json``.

  Call it whenever a checkpoint is saved (and after the final evaluation),
  so a resumed run finds every choice its checkpoint was computed with.

  Returns:
    The path written (atomically: a temporary file, then a rename).
  """
  path = os.path.join(workdir, RUN_FILE)
  os.makedirs(workdir, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=workdir, suffix='.tmp')
  with os.fdopen(fd, 'w') as f:
    json.dump(export_choices(), f, indent=1, sort_keys=True)
  os.replace(tmp, path)
  return path


def timings() -> dict[str, dict[str, dict[str, float]]]:
  """``{conv key: {role: {lowering: ms}}}`` of the tunings in this process."""
  with _lock:
    return {key: {role: dict(t) for role, t in roles.items()}
            for key, roles in _timings.items()}


def clear() -> None:
  """Forgets every choice in memory (pinned ones too); the file stays."""
  global _loaded_file
  with _lock:
    _choices.clear()
    _timings.clear()
    _pinned.clear()
    _loaded_file = None


def _read_file(path: str) -> dict[str, Any]:
  try:
    with open(path) as f:
      data = json.load(f)
  except (OSError, ValueError):
    return {}
  if not isinstance(data, dict) or data.get('version') != FILE_VERSION:
    return {}
  return data


def _merge_file() -> None:
  """Adds the file's choices for this machine (once per file path)."""
  global _loaded_file
  path = cache_file()
  if not path or path == _loaded_file:
    return
  _loaded_file = path
  entries = _read_file(path).get('machines', {}).get(machine_key(), {})
  for key, roles in entries.items():
    if key in _pinned:
      continue
    try:
      _choices[key] = Choice(**{r: roles[r] for r in conv_lowering.ROLES})
    except (KeyError, TypeError, ValueError):
      logging.warning('conv autotune: ignoring bad entry %s in %s', key, path)


def _save_file() -> None:
  """Writes this machine's choices into the file (atomic replace)."""
  path = cache_file()
  if not path:
    return
  try:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    data = _read_file(path) or {'version': FILE_VERSION, 'machines': {}}
    entries = data.setdefault('machines', {}).setdefault(machine_key(), {})
    for key, choice in _choices.items():
      if key not in _pinned:
        entries[key] = choice.as_dict()
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                               suffix='.tmp')
    with os.fdopen(fd, 'w') as f:
      json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)
  except OSError as error:  # a read-only home must not stop training
    logging.warning('conv autotune: cannot write %s: %s', path, error)
