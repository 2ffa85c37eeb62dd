"""``python -m benchmarks.scaling [--quick] [--out DIR]``."""

import sys

from benchmarks.scaling import runner

if __name__ == '__main__':
  runner.main(sys.argv[1:])
