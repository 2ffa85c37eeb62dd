"""Fixtures and the runner shared by the bad-input tests.

Every public function and module must reject a bad argument with a
ValueError whose message names the argument and says what it accepts.
``tests/bad_input_<package>_test.py`` (groups, layers, models, data) each
list rows ``(name, call, regex)``: ``call()`` must raise a ValueError whose
message matches ``regex``. Rows are grouped by module, and the rows of one
function sit together. :func:`make_test_case` turns the rows into a
parameterized test class, one test per row.

Fixtures: ``X`` is ``[1, 4, 4, 2]``, so a harmonic radial profile
``[F=2, n_rings=2, C_in=2, C_out=3]`` fits it.
"""

from collections.abc import Callable, Sequence

from absl.testing import parameterized
import jax
import numpy as np

X = np.ones((1, 4, 4, 2), np.float32)  # [B, H, W, C]
X_INT = np.ones((1, 4, 4, 2), np.int32)
X_ODD = np.ones((1, 5, 4, 2), np.float32)
X_ODD_W = np.ones((1, 4, 5, 2), np.float32)
X_TINY = np.ones((1, 2, 2, 2), np.float32)
KERNEL = np.ones((3, 3, 2, 3), np.float32)  # [kh, kw, C_in, C_out]
BIG_KERNEL = np.ones((5, 5, 2, 3), np.float32)
Y = np.ones((1, 4, 4, 4, 2), np.float32)  # p4 group map [B, H, W, G, C]
Z = X[:, :, :, None].astype(np.complex64)  # harmonic map [B, H, W, M, C]
MNIST = np.ones((1, 28, 28, 1), np.float32)
KEY = jax.random.PRNGKey(0)

# Message fragments shared by many rows.
RANK = r'rank 4 \(\[B, H, W, C\]\)'
FLOAT = r'must have a floating dtype'
FILTER = r'filter_size must be in 1\.\.7'
BLUR_PAD = (r"padding must be one of 'reflect', 'replicate', 'zeros', "
            r"'circular'; got")
POOL_PAD = r"padding must be one of 'valid', 'circular', 'same'; got"

Row = tuple[str, Callable[[], object], str]  # (name, call, regex)


def make_test_case(rows: Sequence[Row]) -> type[parameterized.TestCase]:
  """A test class, one test per row: ``call()`` raises a matching ValueError.

  Subclass it in the test file (``class BadInputTest(make_test_case(ROWS))``)
  so that the test runner finds it there.

  Args:
    rows: ``(name, call, regex)`` tuples; names must be unique.

  Returns:
    A ``parameterized.TestCase`` subclass.
  """
  names = [row[0] for row in rows]
  repeated = sorted({name for name in names if names.count(name) > 1})
  if repeated:
    raise ValueError(f'rows must have unique names; repeated: {repeated}.')

  class BadInputTestCase(parameterized.TestCase):

    @parameterized.named_parameters(*rows)
    def test_raises_value_error_naming_the_argument(self, call, regex):
      with self.assertRaisesRegex(ValueError, regex):
        call()

  return BadInputTestCase
