"""``python -m benchmarks.scaling [--quick] [--sweeps a,b] [--out DIR]``."""

import sys

from benchmarks.scaling import runner
from experiments import runtime

if __name__ == '__main__':
  runtime.use_huge_pages()  # what main.py runs with; may re-execute
  runner.main(sys.argv[1:])
