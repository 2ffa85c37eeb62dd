"""The oneDNN convolution backend (``layers/onednn.py``, ``onednn_conv.cc``).

* Values and both gradients equal ``lax.conv_general_dilated``'s within the
  float32 reordering bound (``tests/float_tolerance.py``) over a grid of
  shapes, strides, pads (asymmetric, unused trailing rows), dilations and
  feature groups; ``jax.test_util.check_grads`` to second order in both
  modes; ``vmap`` on either operand and per-example gradients.
* The build: where it should work (Linux x86-64 with a compiler and the
  wheels) it does; a missing or failing compiler, or ``EQUIVLAB_ONEDNN=0``,
  gives a reason and XLA, never an error; two processes building at once
  both end with one whole library.
* The backend switch of ``layers.autotune``.

Every conv2d test in the suite runs on oneDNN too where it is available (the
default backend); ``EQUIVLAB_CONV_BACKEND=xla python -m pytest`` runs them on
XLA.
"""

import functools
import os
import platform
import stat
import subprocess
import sys
import tempfile
import threading
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import jax
import jax.numpy as jnp
from jax import test_util as jtu
import numpy as np

import layers
from layers import autotune
from layers import conv_lowering
from layers import onednn
from tests import float_tolerance

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BUILDABLE = (platform.system() == 'Linux' and
              platform.machine() == 'x86_64' and
              onednn.find_compiler() is not None and
              onednn.find_onednn() is not None and
              os.environ.get(onednn.SWITCH, '1') not in ('0', 'off'))
_NEEDS_ONEDNN = absltest.skipUnless(
    _BUILDABLE, 'needs Linux x86-64, a C++ compiler and the oneDNN wheels')

# (name, x shape, kernel shape, strides, padding, dilations, groups).
_CASES = (
    ('k3_same', (2, 7, 6, 3), (3, 3, 3, 4), (1, 1), ((1, 1), (1, 1)),
     (1, 1), 1),
    ('k4_stride2', (2, 9, 8, 3), (4, 4, 3, 5), (2, 2), ((1, 2), (1, 2)),
     (1, 1), 1),
    ('valid_unused_rows', (2, 11, 10, 2), (3, 3, 2, 4), (3, 3), 'VALID',
     (2, 2), 1),
    ('asymmetric', (1, 7, 9, 4), (3, 4, 4, 6), (2, 1), ((0, 3), (2, 0)),
     (1, 2), 1),
    ('groups3', (2, 8, 8, 6), (3, 3, 2, 6), (1, 2), ((1, 1), (1, 1)),
     (1, 1), 3),
    ('depthwise_x2', (2, 6, 6, 4), (3, 3, 1, 8), (2, 2), ((1, 1), (1, 1)),
     (1, 1), 4),
    ('full_conv', (3, 5, 5, 1), (5, 5, 1, 2), (1, 1), ((4, 4), (4, 4)),
     (1, 1), 1),
)


def _reference(x, kernel, *, strides, padding, dilations, groups):
  return jax.lax.conv_general_dilated(
      x, kernel, window_strides=strides, padding=padding,
      rhs_dilation=dilations, dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
      feature_group_count=groups)


def _value_and_grads(fn, x, kernel, cotangent):
  y, vjp = jax.vjp(fn, x, kernel)
  return (y, *vjp(cotangent))


@_NEEDS_ONEDNN
class OnednnConvTest(parameterized.TestCase):

  def test_available_here(self):
    self.assertTrue(onednn.available(), onednn.unavailable_reason())
    self.assertIsNone(onednn.unavailable_reason())

  @parameterized.named_parameters(*_CASES)
  def test_value_and_gradients_match_xla(self, x_shape, kernel_shape, strides,
                                         padding, dilations, groups):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    kernel = rng.standard_normal(kernel_shape).astype(np.float32)
    options = dict(strides=strides, padding=padding, dilations=dilations,
                   groups=groups)
    reference = functools.partial(_reference, **options)
    y = reference(x, kernel)
    cotangent = rng.standard_normal(y.shape).astype(np.float32)
    expected = _value_and_grads(reference, x, kernel, cotangent)
    abs_sums = _value_and_grads(reference, np.abs(x), np.abs(kernel),
                                np.abs(cotangent))
    program = jax.jit(functools.partial(
        _value_and_grads, functools.partial(onednn.conv, **options)))
    actual = program(x, kernel, cotangent)
    text = program.lower(x, kernel, cotangent).as_text()
    for handler in onednn.HANDLERS:  # not XLA's conv in disguise
      self.assertIn(f'equivlab_onednn_conv_{handler}', text)
    kh, kw, c_in, c_out = kernel_shape
    terms = max(kh * kw * c_in, kh * kw * c_out,
                x_shape[0] * y.shape[1] * y.shape[2])
    for name, a, b, abs_sum in zip(('value', 'input gradient',
                                    'filter gradient'), actual, expected,
                                   abs_sums):
      float_tolerance.assert_same_sums(a, b, abs_sum, terms=terms,
                                       err_msg=name)

  def test_check_grads_to_second_order(self):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 5, 6, 2)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 2, 3)).astype(np.float32)
    fn = functools.partial(onednn.conv, strides=(2, 1),
                           padding=((1, 1), (0, 1)), dilations=(1, 1))
    # Bilinear: central differences are exact up to rounding.
    jtu.check_grads(fn, (x, kernel), order=2, modes=('fwd', 'rev'),
                    eps=1e-2, atol=1e-2, rtol=1e-2)

  def test_vmap_over_either_operand_and_per_example_gradients(self):
    rng = np.random.default_rng(2)
    xs = rng.standard_normal((3, 2, 6, 6, 2)).astype(np.float32)
    kernels = rng.standard_normal((3, 3, 3, 2, 4)).astype(np.float32)
    options = dict(strides=(1, 1), padding=((1, 1), (1, 1)),
                   dilations=(1, 1), groups=1)
    ours = functools.partial(onednn.conv, **options)
    reference = functools.partial(_reference, **options)
    loss = lambda conv: (lambda x, k: jnp.sum(conv(x, k) ** 2))
    for in_axes in ((0, None), (None, 0), (0, 0)):
      x = xs if in_axes[0] == 0 else xs[0]
      k = kernels if in_axes[1] == 0 else kernels[0]
      np.testing.assert_allclose(
          jax.vmap(ours, in_axes)(x, k), jax.vmap(reference, in_axes)(x, k),
          rtol=1e-5, atol=1e-5, err_msg=str(in_axes))
      for argnum in (0, 1):
        np.testing.assert_allclose(
            jax.jit(jax.vmap(jax.grad(loss(ours), argnum), in_axes))(x, k),
            jax.vmap(jax.grad(loss(reference), argnum), in_axes)(x, k),
            rtol=1e-4, atol=1e-3, err_msg=f'{in_axes} grad {argnum}')

  def test_empty_batch(self):
    x = np.zeros((0, 5, 5, 2), np.float32)
    kernel = np.ones((3, 3, 2, 4), np.float32)
    fn = functools.partial(onednn.conv, strides=(1, 1),
                           padding=((1, 1), (1, 1)), dilations=(1, 1))
    self.assertEqual(fn(x, kernel).shape, (0, 5, 5, 4))
    grad = jax.grad(lambda k: jnp.sum(fn(x, k)))(kernel)
    np.testing.assert_array_equal(grad, np.zeros_like(kernel))

  def test_conv2d_uses_it_by_default_and_not_under_xla(self):
    x = np.ones((1, 6, 6, 2), np.float32)
    kernel = np.ones((3, 3, 2, 2), np.float32)
    # A new function each time: jit reuses a function's trace across settings.
    text = lambda: jax.jit(lambda *a: layers.conv2d(*a)).lower(  # pylint: disable=unnecessary-lambda
        x, kernel).as_text()
    with autotune.settings(backend='auto', enabled=False, force=None):
      self.assertIn('equivlab_onednn_conv_forward', text())
    with autotune.settings(backend='xla', enabled=False, force=None):
      self.assertNotIn('equivlab_onednn', text())
    # Not float32: XLA whatever the backend.
    with autotune.settings(backend='onednn', enabled=False, force=None):
      self.assertNotIn('equivlab_onednn', jax.jit(
          lambda *a: layers.conv2d(*a)).lower(  # pylint: disable=unnecessary-lambda
              x.astype(jnp.bfloat16), kernel.astype(jnp.bfloat16)).as_text())

  def test_threads(self):
    onednn.set_threads(1)
    try:
      y = onednn.conv(np.ones((1, 4, 4, 1), np.float32),
                      np.ones((1, 1, 1, 1), np.float32), strides=(1, 1),
                      padding='VALID', dilations=(1, 1))
      np.testing.assert_array_equal(y, np.ones((1, 4, 4, 1)))
    finally:
      onednn.set_threads(onednn.default_threads())
    self.assertGreater(onednn.cached_configurations(), 0)


class BadInputTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('bfloat16', dict(x=jnp.ones((1, 4, 4, 2), jnp.bfloat16),
                        kernel=jnp.ones((3, 3, 2, 2), jnp.bfloat16)),
       r'must be float32 with zero pads >= 0'),
      ('negative_pad', dict(padding=((-1, 0), (0, 0))),
       r'must be float32 with zero pads >= 0'),
      ('rank', dict(x=np.ones((4, 4, 2), np.float32)),
       r'x must be \[B, H, W, C\]'),
      ('groups', dict(groups=3), r'^groups must be an int >= 1'),
      ('groups_type', dict(groups=1.0), r'^groups must be an int >= 1'),
  )
  def test_conv_rejects(self, changes, message):
    args = dict(x=np.ones((1, 4, 4, 2), np.float32),
                kernel=np.ones((3, 3, 2, 2), np.float32), strides=(1, 1),
                padding=((1, 1), (1, 1)), dilations=(1, 1), groups=1)
    args.update(changes)
    with self.assertRaisesRegex(ValueError, message):
      onednn.conv(args.pop('x'), args.pop('kernel'), **args)

  def test_set_threads_rejects(self):
    for value in (-1, 1.5, True, '2'):
      with self.assertRaisesRegex(ValueError, r'^threads must be an int'):
        onednn.set_threads(value)

  def test_backend_switch_rejects(self):
    with self.assertRaisesRegex(ValueError, r'^backend must be one of'):
      autotune.configure(backend='mkl')
    with mock.patch.dict(os.environ, {autotune.BACKEND_ENV_VAR: 'cudnn'}):
      with self.assertRaisesRegex(ValueError,
                                  r'^EQUIVLAB_CONV_BACKEND must be one of'):
        autotune.backend()
    with self.assertRaisesRegex(ValueError, r"^mapping\['backend'\] must be"):
      autotune.load_choices({'choices': {}, 'backend': 'mkl'})

  def test_conv2d_errors_are_the_same_on_either_backend(self):
    x = np.ones((1, 5, 5, 2), np.float32)
    for backend in ('xla', 'onednn'):
      with autotune.settings(backend=backend):
        with self.assertRaisesRegex(ValueError, r'^kernel must have C_in'):
          layers.conv2d(x, np.ones((3, 3, 3, 2), np.float32))
        with self.assertRaisesRegex(ValueError, r'^padding must be one of'):
          layers.conv2d(x, np.ones((3, 3, 2, 2), np.float32),
                        padding='same')


class BackendSwitchTest(absltest.TestCase):

  def test_environment_and_settings(self):
    with mock.patch.dict(os.environ, {autotune.BACKEND_ENV_VAR: 'XLA'}):
      self.assertEqual(autotune.backend(), 'xla')
      with autotune.settings(backend='onednn'):
        self.assertEqual(autotune.backend(), 'onednn')
    with mock.patch.dict(os.environ, {autotune.BACKEND_ENV_VAR: ''}):
      self.assertEqual(autotune.backend(), autotune.DEFAULT_BACKEND)

  def test_choose_follows_the_backend(self):
    shape, kernel = (2, 8, 8, 4), (3, 3, 4, 4)
    options = dict(strides=(1, 1), padding=((1, 1), (1, 1)),
                   dilations=(1, 1))
    with autotune.settings(backend='xla', enabled=False, force=None):
      self.assertIsNone(autotune.choose(shape, kernel, np.float32, **options))
    with autotune.settings(backend='auto', enabled=False, force=None):
      expected = autotune.ONEDNN_CHOICE if onednn.available() else None
      self.assertEqual(
          autotune.choose(shape, kernel, np.float32, **options), expected)
      self.assertIsNone(autotune.choose(shape, kernel, np.float64, **options))

  def test_export_and_load_carry_the_backend(self):
    with autotune.settings(backend='xla'):
      exported = autotune.export_choices()
    self.assertEqual(exported['backend'], 'xla')
    with autotune.settings(backend='auto', enabled=None):
      autotune.load_choices(exported)
      self.assertEqual(autotune.backend(), 'xla')


def _fake_compiler(directory: str, body: str) -> str:
  path = os.path.join(directory, 'fake-c++')
  with open(path, 'w') as f:
    f.write('#!/bin/sh\n' + body + '\n')
  os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)
  return path


class BuildTest(absltest.TestCase):

  def _load_with(self, environ: dict[str, str]):
    """``onednn.load()`` in a fresh state under ``environ``; the reason."""
    saved = dict(onednn._state)  # pylint: disable=protected-access
    onednn._state.clear()  # pylint: disable=protected-access
    try:
      with mock.patch.dict(os.environ, environ), \
          self.assertLogs(level='WARNING') as logs:
        self.assertFalse(onednn.load())
      self.assertLen(logs.records, 1)
      self.assertIn('oneDNN convolutions off', logs.output[0])
      return onednn.unavailable_reason()
    finally:
      onednn._state.clear()  # pylint: disable=protected-access
      onednn._state.update(saved)  # pylint: disable=protected-access

  def test_switch_off(self):
    self.assertEqual(self._load_with({onednn.SWITCH: '0'}),
                     f'{onednn.SWITCH}=0')

  def test_no_compiler(self):
    with tempfile.TemporaryDirectory() as empty:
      reason = self._load_with({'PATH': empty, 'CXX': ''})
    if platform.system() == 'Linux' and platform.machine() == 'x86_64':
      self.assertIn('no C++ compiler', reason)

  @_NEEDS_ONEDNN
  def test_failing_compiler(self):
    with tempfile.TemporaryDirectory() as tmp:
      compiler = _fake_compiler(tmp, 'echo "fake: no such header" >&2; exit 1')
      reason = self._load_with({'CXX': compiler, 'XDG_CACHE_HOME': tmp})
      self.assertIn('fake: no such header', reason)
      self.assertEqual([n for n in os.listdir(os.path.join(
          tmp, 'equivlab', 'onednn'))], [])  # no half-written library

  @_NEEDS_ONEDNN
  def test_two_builds_at_once_leave_one_whole_file(self):
    # A compiler that writes its output slowly, byte by byte: a reader of a
    # half-written library would see a prefix of it.
    with tempfile.TemporaryDirectory() as tmp:
      compiler = _fake_compiler(
          tmp, 'for a; do out=$a; done\n'
          'for i in 1 2 3 4 5; do printf "part$i;" >> "$out"; sleep 0.1; done')
      include, lib = onednn.find_onednn()
      directory = os.path.join(tmp, 'cache')
      paths = []
      threads = [threading.Thread(target=lambda: paths.append(
          onednn.build(compiler, include, lib, directory))) for _ in range(2)]
      for thread in threads:
        thread.start()
      for thread in threads:
        thread.join()
      self.assertLen(set(paths), 1)
      with open(paths[0]) as f:
        self.assertEqual(f.read(), 'part1;part2;part3;part4;part5;')
      self.assertEqual(os.listdir(directory), [os.path.basename(paths[0])])
      # The key changes with the compiler (and the source, oneDNN, jax).
      self.assertNotEqual(onednn.library_key(compiler, include, lib),
                          onednn.library_key('/usr/bin/c++', include, lib))

  @_NEEDS_ONEDNN
  def test_an_unwritable_cache_folder_builds_in_the_temp_folder(self):
    with tempfile.TemporaryDirectory() as tmp:
      compiler = _fake_compiler(tmp, 'for a; do out=$a; done; echo lib > "$out"')
      include, lib = onednn.find_onednn()
      with mock.patch.object(onednn, 'cache_dir',
                             return_value='/dev/null/equivlab'), \
          mock.patch.object(tempfile, 'tempdir', tmp):
        path = onednn._build_somewhere(compiler, include, lib)  # pylint: disable=protected-access
      self.assertTrue(path.startswith(os.path.join(tmp, 'equivlab-onednn-')))
      with open(path) as f:
        self.assertEqual(f.read(), 'lib\n')

  def test_a_process_without_a_compiler_trains_on_xla(self):
    script = (
        'import jax, jax.numpy as jnp, numpy as np\n'
        'import layers\nfrom layers import onednn\n'
        'x = jnp.ones((2, 6, 6, 3)); k = jnp.ones((3, 3, 3, 4))\n'
        'g = jax.grad(lambda k: jnp.sum(layers.conv2d(x, k) ** 2))(k)\n'
        'print(onednn.available(), float(g.sum()))\n')
    with tempfile.TemporaryDirectory() as empty:
      environ = dict(os.environ, PATH=empty, CXX='', XDG_CACHE_HOME=empty,
                     PYTHONPATH=_ROOT)
      result = subprocess.run([sys.executable, '-c', script], cwd=_ROOT,
                              env=environ, capture_output=True, text=True,
                              check=False, timeout=300)
    self.assertEqual(result.returncode, 0, result.stderr[-3000:])
    available, total = result.stdout.split()
    self.assertEqual(available, 'False')
    # Circular conv of ones: every output is 27; d/dk sum(y^2) = 2 * 27 * 72
    # at each of the 108 kernel entries.
    self.assertEqual(float(total), 2 * 27 * 72 * 108)
    self.assertIn('oneDNN convolutions off', result.stderr)


if __name__ == '__main__':
  absltest.main()
