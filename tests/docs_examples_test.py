"""Every ```python block of README.md and docs/**/*.md runs as written.

The blocks of one file run in order in one shared namespace, like a doctest
session: a block may use what an earlier block of the same file defined, never
what another file defined. All files run in ONE subprocess (one JAX import,
and a block that registers a model or changes a global setting cannot leak
into other tests), each file in a fresh namespace; one test per file reports
the first failing block by file and line, with the traceback's line numbers
those of the Markdown file.

Fences say what a block is (checked by ``test_every_fence_names_a_language``):

* ```python: runs.
* ```python outline: a sketch of a class to write, with ``...`` bodies; it is
  compiled (a syntax check), not run, and must contain ``...``.
* ```bash (commands), ```text (layouts, output): not run.

A long command (a training run) belongs in a ```bash block; a ```python block
must run in seconds (this test takes ~15 s on 2 CPU cores, mostly compiles).

Run one file by hand: ``python -m tests.docs_examples_test --run README.md``.
"""

import dataclasses
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import traceback

from absl.testing import absltest
from absl.testing import parameterized

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_S = 600  # all files together; ~15 s on 2 cores
LANGUAGES = ('python', 'bash', 'text')
OUTLINE = 'python outline'
_FENCE = re.compile(r'^(?P<indent>[ ]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$')


@dataclasses.dataclass(frozen=True)
class Block:
  path: str  # relative to the repository root
  line: int  # of the first line of code (the line after the fence)
  info: str  # the fence's info string, e.g. 'python' or 'python outline'
  source: str


def markdown_files() -> list[str]:
  """README.md and every docs/**/*.md, relative to the repository root."""
  docs = sorted(glob.glob('docs/**/*.md', root_dir=REPO, recursive=True))
  return ['README.md'] + docs


def fenced_blocks(path: str) -> list[Block]:
  """Every fenced code block of ``path`` (relative to the repository root)."""
  with open(os.path.join(REPO, path), encoding='utf-8') as f:
    lines = f.read().splitlines()
  blocks, open_fence = [], None
  for number, text in enumerate(lines, start=1):
    match = _FENCE.match(text)
    if open_fence is None:
      if match:
        open_fence = (match['fence'], match['info'].strip(), number, [])
    elif (match and match['fence'][0] == open_fence[0][0] and
          len(match['fence']) >= len(open_fence[0]) and
          not match['info'].strip()):
      fence, info, start, body = open_fence
      blocks.append(Block(path, start + 1, info, '\n'.join(body) + '\n'))
      open_fence = None
    else:
      open_fence[3].append(text)
  if open_fence is not None:
    raise ValueError(f'{path}:{open_fence[2]}: the fence is never closed')
  return blocks


def python_files() -> list[str]:
  """The Markdown files with at least one ```python block."""
  return [path for path in markdown_files()
          if any(block.info == 'python' for block in fenced_blocks(path))]


def _code(block: Block):
  # Blank lines in front, so tracebacks give the line in the Markdown file.
  return compile('\n' * (block.line - 1) + block.source, block.path, 'exec')


def run_file(path: str) -> dict:
  """Runs the python blocks of ``path`` in order in one fresh namespace."""
  namespace = {'__name__': '__docs__'}
  start = time.perf_counter()
  ran = 0
  for block in fenced_blocks(path):
    if block.info not in ('python', OUTLINE):
      continue
    try:
      code = _code(block)
      if block.info == 'python':
        exec(code, namespace)  # pylint: disable=exec-used
        ran += 1
    except BaseException:  # pylint: disable=broad-except
      return dict(path=path, line=block.line, ran=ran,
                  seconds=time.perf_counter() - start,
                  error=traceback.format_exc()[-4000:])
  return dict(path=path, line=None, ran=ran,
              seconds=time.perf_counter() - start, error=None)


def _run_main(paths: list[str], out: str | None) -> None:
  """The subprocess: runs each file, writes ``{path: result}`` as JSON."""
  if sys.path and os.path.abspath(sys.path[0]) == os.path.join(REPO, 'tests'):
    sys.path[0] = REPO  # run as a script: tests/ must not shadow packages
  else:
    sys.path.insert(0, REPO)
  from experiments import mlir_context  # pylint: disable=g-import-not-at-top
  mlir_context.use_from_environment(default=False)  # the suite turns it on
  import hypothesis  # pylint: disable=g-import-not-at-top
  hypothesis.settings.register_profile(
      'docs', derandomize=True, database=None, deadline=None)
  hypothesis.settings.load_profile('docs')
  results = {}
  for path in paths:
    results[path] = run_file(path)
    status = 'ok' if results[path]['error'] is None else (
        f"FAILED at line {results[path]['line']}")
    print(f"{path}: {results[path]['ran']} blocks, "
          f"{results[path]['seconds']:.1f} s, {status}", flush=True)
  if out:
    with open(out, 'w') as f:
      json.dump(results, f)
  else:
    for result in results.values():
      if result['error']:
        print(result['error'], file=sys.stderr)
    sys.exit(any(result['error'] for result in results.values()))


class DocsExamplesTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.results, cls.output = {}, ''
    with tempfile.TemporaryDirectory() as workdir:
      out = os.path.join(workdir, 'results.json')
      env = dict(os.environ, EQUIVLAB_AUTOTUNE='0', EQUIVLAB_AUTOTUNE_CACHE='',
                 MPLBACKEND='Agg',
                 PYTHONPATH=os.pathsep.join(
                     [REPO] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
      result = subprocess.run(
          [sys.executable, os.path.abspath(__file__), '--run', '--out', out,
           *python_files()],
          cwd=workdir, env=env, capture_output=True, text=True,
          timeout=TIMEOUT_S, check=False)
      cls.output = f'{result.stdout[-3000:]}\n{result.stderr[-3000:]}'
      if os.path.exists(out):
        with open(out) as f:
          cls.results = json.load(f)

  @parameterized.named_parameters(
      (re.sub(r'\W', '_', path), path) for path in python_files())
  def test_python_blocks_run(self, path):
    self.assertIn(path, self.results,
                  f'the docs runner stopped before {path}:\n{self.output}')
    result = self.results[path]
    self.assertIsNone(
        result['error'],
        f"{path}: the ```python block at line {result['line']} failed "
        f"(blocks of the file run in order in one namespace):\n"
        f"{result['error']}")
    self.assertGreater(result['ran'], 0)

  def test_every_fence_names_a_language(self):
    for path in markdown_files():
      for block in fenced_blocks(path):
        self.assertIn(
            block.info, LANGUAGES + (OUTLINE,),
            f'{path}:{block.line - 1}: a fence must say what it holds: '
            f'```python (runs in tests/docs_examples_test.py), '
            f'```{OUTLINE} (a sketch with ... bodies, compiled only), '
            f'```bash or ```text; got {block.info!r}')

  def test_outlines_compile_and_are_outlines(self):
    for path in markdown_files():
      for block in fenced_blocks(path):
        if block.info == OUTLINE:
          _code(block)  # a syntax error fails here
          self.assertIn('...', block.source,
                        f'{path}:{block.line}: a runnable block should be '
                        '```python, so that it runs')

  def test_parser_finds_fences_and_their_lines(self):
    with tempfile.NamedTemporaryFile('w', suffix='.md', dir=REPO,
                                     delete=False) as f:
      f.write('text\n```python\nx = 1\n```\n\n```bash\nls\n```\n')
    self.addCleanup(os.remove, f.name)
    blocks = fenced_blocks(os.path.basename(f.name))
    self.assertEqual([(b.line, b.info, b.source) for b in blocks],
                     [(3, 'python', 'x = 1\n'), (7, 'bash', 'ls\n')])


if __name__ == '__main__':
  if sys.argv[1:2] == ['--run']:
    arguments = sys.argv[2:]
    out_path = None
    if arguments[:1] == ['--out']:
      out_path, arguments = arguments[1], arguments[2:]
    _run_main(arguments or python_files(), out_path)
  else:
    absltest.main()
