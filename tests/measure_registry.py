"""Measures every registry case over many draws and prints a markdown table.

    python -m tests.measure_registry [--examples 200] [--filter NAME]

This is how the bounds of the approximate cases (and the margins of the
negative controls) in tests/cases/ were measured: for each case the
smallest, median and largest per-draw relative error (largest over the batch
for exact/approximate cases, batch mean for negative controls, as the
assertions use them).
"""

import argparse

import hypothesis
import numpy as np
from hypothesis import strategies as st

import groups
from groups import testing
from tests import cases


def measure(case: testing.Case, examples: int) -> np.ndarray:
  errors = []

  @hypothesis.settings(max_examples=examples, derandomize=True, deadline=None,
                       database=None,
                       suppress_health_check=list(hypothesis.HealthCheck))
  @hypothesis.given(data=st.data())
  def run(data):
    trial = case.draw(data.draw)
    per_example = np.asarray(groups.equivariance_error(
        trial.fn, trial.x, trial.transform, trial.output_transform,
        mask=trial.mask))
    reduce = np.mean if case.expect == testing.BREAKS else np.max
    errors.append(float(reduce(per_example)))

  run()
  return np.asarray(errors)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--examples', type=int, default=200)
  parser.add_argument('--filter', default='')
  args = parser.parse_args()
  print('| case | expect | bound | draws | min error | median | max error |')
  print('|---|---|---|---|---|---|---|')
  for case in cases.REGISTRY:
    if args.filter not in case.name:
      continue
    errors = measure(case, args.examples)
    print(f'| {case.name} | {case.expect} | {case.bound:g} | {len(errors)} | '
          f'{errors.min():.2e} | {np.median(errors):.2e} | '
          f'{errors.max():.2e} |', flush=True)


if __name__ == '__main__':
  main()
