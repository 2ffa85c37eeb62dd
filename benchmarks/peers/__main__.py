"""``python -m benchmarks.peers``: flags, then :func:`benchmarks.peers.run`."""

from collections.abc import Sequence

from absl import app
from absl import flags

from benchmarks.peers import runner
from experiments import runtime

_QUICK = flags.DEFINE_bool('quick', False, 'One case per section.')
_SECTIONS = flags.DEFINE_list(
    'sections', list(runner.SECTIONS),
    f'Sections to run, of {", ".join(runner.SECTIONS)}.')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks',
                           'Folder for peers.csv and peers.md.')
_ROUNDS = flags.DEFINE_integer('rounds', 3, 'Interleaved timing rounds.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed calls per round.')


def main(argv: Sequence[str]) -> None:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {argv[1:]}')
  runner.run(sections=_SECTIONS.value, quick=_QUICK.value, out=_OUT.value,
             rounds=_ROUNDS.value, repeats=_REPEATS.value)


if __name__ == '__main__':
  runtime.use_huge_pages()  # what main.py runs with; may re-execute
  app.run(main)
