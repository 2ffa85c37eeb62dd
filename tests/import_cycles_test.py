"""No import cycles between the project's modules.

Every ``import`` / ``from ... import`` statement, including those inside
functions (a function-local import hides a cycle from a top-level reading,
but it is one), is an edge from the importing module to the project module
it names; ``from pkg import name`` counts as an import of ``pkg.name`` when
that is a module. A package's ``__init__`` importing its own submodules is
not an edge back (Python imports the package before its submodules anyway).
The graph must have no cycle, and each module listed in ``FRESH`` imports on
its own in a fresh interpreter (the cycles this test was written for:
``benchmarks.peers`` <-> ``benchmarks.steerable_basis`` and
``groups.cyclic`` -> ``groups.representations`` -> ``groups.dihedral``).
"""

import ast
import os
import subprocess
import sys

from absl.testing import absltest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ('groups', 'layers', 'models', 'experiments', 'data', 'benchmarks')
FRESH = ('groups.representations', 'groups.cyclic', 'groups.dihedral',
         'benchmarks.steerable_basis', 'benchmarks.peers.steerable_cases',
         'benchmarks.peers')


def project_modules() -> dict[str, str]:
  modules = {}
  for package in PACKAGES:
    for folder, _, files in os.walk(os.path.join(ROOT, package)):
      for name in files:
        if name.endswith('.py'):
          path = os.path.join(folder, name)
          parts = os.path.relpath(path, ROOT)[:-3].split(os.sep)
          if parts[-1] == '__init__':
            parts = parts[:-1]
          modules['.'.join(parts)] = path
  return modules


def import_graph() -> dict[str, set[str]]:
  modules = project_modules()
  graph = {name: set() for name in modules}
  for name, path in modules.items():
    is_package = path.endswith('__init__.py')
    with open(path) as f:
      tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
      targets = []
      if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
      elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
        targets = [f'{node.module}.{alias.name}'
                   if f'{node.module}.{alias.name}' in modules else node.module
                   for alias in node.names]
      for target in targets:
        while target and target not in modules:
          target = target.rpartition('.')[0]
        if not target or target == name:
          continue
        if is_package and target.startswith(name + '.'):
          continue  # a package's __init__ importing its own submodules
        graph[name].add(target)
  return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
  """Strongly connected components with more than one module (Tarjan)."""
  index, low, stack, on_stack, out = {}, {}, [], set(), []

  def visit(node):
    index[node] = low[node] = len(index)
    stack.append(node)
    on_stack.add(node)
    for nxt in sorted(graph[node]):
      if nxt not in index:
        visit(nxt)
        low[node] = min(low[node], low[nxt])
      elif nxt in on_stack:
        low[node] = min(low[node], index[nxt])
    if low[node] == index[node]:
      component = []
      while True:
        top = stack.pop()
        on_stack.discard(top)
        component.append(top)
        if top == node:
          break
      if len(component) > 1:
        out.append(sorted(component))

  sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
  for node in sorted(graph):
    if node not in index:
      visit(node)
  return out


class ImportCyclesTest(absltest.TestCase):

  def test_graph_sees_function_local_imports(self):
    graph = import_graph()
    self.assertIn('benchmarks.common', graph['benchmarks.steerable_basis'])
    self.assertIn('groups.finite', graph['groups.representations'])

  def test_no_import_cycles(self):
    self.assertEqual(cycles(import_graph()), [])

  def test_modules_import_alone_in_a_fresh_interpreter(self):
    code = ('import importlib, sys\n'
            'for name in sys.argv[1:]:\n'
            '  importlib.import_module(name)\n')
    for name in FRESH:
      result = subprocess.run([sys.executable, '-c', code, name], cwd=ROOT,
                              capture_output=True, text=True, check=False)
      self.assertEqual(result.returncode, 0, f'{name}: {result.stderr[-2000:]}')


if __name__ == '__main__':
  absltest.main()
