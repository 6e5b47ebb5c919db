"""Values of ``setup.py``, read with :mod:`ast` (nothing is run)."""
import ast
from pathlib import Path
from typing import Any, Dict

__all__ = ['SETUP_PY', 'setup_value']

SETUP_PY = Path(__file__).resolve().parents[2] / 'setup.py'


def _evaluate(node: ast.AST, names: Dict[str, Any]) -> Any:
    """A literal, a module-level name bound to one, or ``+`` of those."""
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _evaluate(node.left, names) + _evaluate(node.right, names)
    if isinstance(node, ast.Dict):
        return {
            _evaluate(k, names): _evaluate(v, names)
            for k, v in zip(node.keys, node.values)
        }
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_evaluate(e, names) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    return ast.literal_eval(node)


def setup_value(name: str) -> Any:
    """The value ``setup.py`` assigns to ``name`` or passes as ``name=``.

    Literals, module-level names bound to literals (``MIM_REQUIRES``) and
    ``+`` of those are understood; anything else raises ``ValueError``.

    Args:
        name (str): A module-level name or a keyword of ``setup()``.

    Returns:
        Any: The value.
    """
    tree = ast.parse(SETUP_PY.read_text())
    names: Dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name):
            try:
                names[node.targets[0].id] = _evaluate(node.value, names)
            except ValueError:
                pass
    if name in names:
        return names[name]
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == name:
            return _evaluate(node.value, names)
    raise AssertionError(f'{SETUP_PY} assigns no literal {name!r}')
