"""``python -m benchmarks.scaling [--quick] [--sweeps a,b] [--out DIR]``."""

import sys

from benchmarks.scaling import runner

if __name__ == '__main__':
  runner.main(sys.argv[1:])
