"""The scripts of ``benchmarks/`` as modules, without touching ``sys.path``."""
import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ['BENCHMARKS', 'load_benchmark']

BENCHMARKS = Path(__file__).resolve().parents[2] / 'benchmarks'


def load_benchmark(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` once, as module ``<name>``.

    The name is the one the scripts use for each other (``import
    fake_data``), so a benchmark and a test share one module.

    Args:
        name (str): The script's name without ``.py``, e.g. ``'fake_data'``.

    Returns:
        ModuleType: The imported module.
    """
    path = BENCHMARKS / f'{name}.py'
    if not path.is_file():
        raise FileNotFoundError(
            f'No benchmark {name!r}: expected {path}; there are '
            f'{sorted(p.stem for p in BENCHMARKS.glob("*.py"))}.')
    module_name = name
    for sibling in _sibling_imports(path):
        load_benchmark(sibling)
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[module_name]
            raise
    return sys.modules[module_name]


def _sibling_imports(path: Path) -> list:
    """The other scripts of ``benchmarks/`` that ``path`` imports by name
    at its top level (``import mnist_evidence as me``, ``from study_runs
    import ...``)."""
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and \
                not node.level:
            names.append(node.module)
    return [n for n in names if n != path.stem and
            (BENCHMARKS / f'{n}.py').is_file()]
