"""No import circles among fitnets_mm's modules.

The import graph is read with :mod:`ast` from the sources (nothing is
imported): an edge goes from a module to every fitnets_mm module it imports,
at module level or inside a function (a deferred import hides a circle, it
does not remove it). A package's ``__init__`` is a node of its own; a
module is not taken to import its parent package.
"""
import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = 'fitnets_mm'


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _resolve(current: str, is_package: bool, level: int,
             module: Optional[str]) -> str:
    """The absolute name of ``from <level dots><module> import ...``."""
    if level == 0:
        return module or ''
    base = current.split('.')
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - (level - 1)]
    return '.'.join(base + ([module] if module else []))


def import_graph(root: Path) -> Dict[str, Set[str]]:
    """Module name -> the fitnets_mm modules it imports."""
    files = {_module_name(p, root): p for p in (root / PACKAGE).rglob('*.py')}
    graph: Dict[str, Set[str]] = {name: set() for name in files}
    for name, path in files.items():
        is_package = path.name == '__init__.py'
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: List[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                targets = [base] + [f'{base}.{a.name}' for a in node.names]
            for target in targets:
                if target in files and target != name:
                    graph[name].add(target)
    return graph


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One import circle of ``graph`` as a list of modules, or None."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_fitnets_mm_has_no_import_cycle() -> None:
    graph = import_graph(REPO_ROOT)
    assert len(graph) > 50
    cycle = find_cycle(graph)
    assert cycle is None, 'import circle: ' + ' -> '.join(cycle)


def test_the_graph_sees_relative_and_deferred_imports(tmp_path: Path) -> None:
    """The checker finds the circle main had (atomic_checkpoint ->
    safe_checkpoint -> downloads -> atomic_checkpoint, two of them inside
    functions)."""
    folder = tmp_path / PACKAGE / 'compat'
    folder.mkdir(parents=True)
    (tmp_path / PACKAGE / '__init__.py').write_text('')
    (folder / '__init__.py').write_text('')
    (folder / 'atomic_checkpoint.py').write_text(
        'from .safe_checkpoint import safe_load\n')
    (folder / 'safe_checkpoint.py').write_text(
        'def load():\n    from .downloads import fetch_url\n')
    (folder / 'downloads.py').write_text(
        'def fetch():\n'
        '    from fitnets_mm.compat import atomic_checkpoint\n')
    cycle = find_cycle(import_graph(tmp_path))
    assert cycle is not None
    assert {c.rsplit('.', 1)[-1] for c in cycle} == {
        'atomic_checkpoint', 'safe_checkpoint', 'downloads'
    }
