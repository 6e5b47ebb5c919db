"""Interpreter-start hook of fitnets_mm: MMRazor works whatever the import order.

``pip install fitnets_mm`` puts ``fitnets_mm-mmrazor-compat.pth`` into
site-packages. Python runs its one line at start-up, which calls
:func:`install`: a finder is put at the front of ``sys.meta_path`` that does
nothing until one of the MMRazor modules in :data:`FIXES` is imported. Then,
and only then, the module is imported as usual and the matching fix from
``fitnets_mm/compat/`` is applied to it. So ``import mmrazor.models`` works
on torch 2.x in a fresh interpreter (MMRazor's own ``tools/train.py`` and
tests included) without importing fitnets_mm first, and nothing else in the
interpreter changes: no other module is wrapped and fitnets_mm itself is not
imported (it would register its modules as a hidden side effect).

This module is deliberately outside the ``fitnets_mm`` package: importing
anything inside it runs ``fitnets_mm/__init__.py``, which imports MMRazor
and registers modules. The fixes are loaded from their files under their
real names (``fitnets_mm.compat.<name>``), so a later ``import fitnets_mm``
uses the same module objects.

Note:
    Every fix is announced once in the log when it takes effect
    (:func:`announce`) and can be turned off with the environment variable
    ``FITNETS_MM_COMPAT_OFF``, a comma-separated list of fix names
    (:data:`FIX_NAMES`) or ``all``; ``startup_hook`` turns off only this hook.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import os.path as osp
import sys
import types
from typing import Any, Callable, Dict, Optional, Sequence, Set, Tuple

__all__ = [
    'ENV_VAR', 'FIXES', 'FIX_NAMES', 'MMRazorFixFinder', 'announce',
    'compat_module', 'fix_enabled', 'install'
]

ENV_VAR = 'FITNETS_MM_COMPAT_OFF'

#: Module imported -> (fix module in fitnets_mm/compat, its function, when).
#: ``'around'`` functions get ``(module, exec_module)`` and run the import;
#: ``'after'`` functions get the freshly imported module.
FIXES: Dict[str, Tuple[str, str, str]] = {
    'mmrazor.structures.quantization':
    ('mmrazor_import', 'exec_with_fallback', 'around'),
    'mmrazor.models.algorithms.base':
    ('mmrazor_inplace', 'patch_set_module_inplace_false', 'after'),
    'mmrazor.models.architectures.dynamic_ops.bricks.dynamic_container':
    ('mmrazor_inplace', 'patch_dynamic_sequential', 'after'),
    'mmrazor.models.losses.kd_soft_ce_loss':
    ('mmcls_rename', 'patch_mmcls_rename', 'after'),
    'mmrazor.registry.registry':
    ('mmcls_scope', 'patch_mmcls_scope', 'after'),
    'mmrazor.models.losses':
    ('mmrazor_nhwc', 'patch_nhwc_losses', 'after'),
}

#: Names accepted by ``FITNETS_MM_COMPAT_OFF``.
FIX_NAMES = ('startup_hook', 'mmrazor_import', 'mmrazor_inplace',
             'mmcls_rename', 'mmcls_scope', 'mmrazor_nhwc',
             'safe_checkpoint', 'atomic_checkpoint', 'cpu_distributed',
             'dist_collect_dir', 'dataset_download')

_announced: Set[str] = set()


def fix_enabled(name: str) -> bool:
    """Whether the fix ``name`` is on (not listed in ``FITNETS_MM_COMPAT_OFF``).

    Args:
        name (str): One of :data:`FIX_NAMES`.

    Returns:
        bool: False if the variable lists ``name`` or ``all``.
    """
    if name not in FIX_NAMES:
        raise ValueError(f'unknown fitnets_mm fix {name!r}; expected one of '
                         f'{FIX_NAMES}')
    off = {part.strip() for part in os.environ.get(ENV_VAR, '').split(',')
           if part.strip()}
    unknown = off - set(FIX_NAMES) - {'all'}
    if unknown:
        raise ValueError(
            f'{ENV_VAR} names unknown fixes {sorted(unknown)}; expected some '
            f'of {list(FIX_NAMES)} or "all".')
    return name not in off and 'all' not in off


def announce(name: str, message: str, key: Optional[str] = None) -> None:
    """Log ``message`` once per process for the fix ``name``.

    The message goes to mmengine's current logger (the run's log once a
    runner exists) and ends with how to turn the fix off.

    Args:
        name (str): The fix, one of :data:`FIX_NAMES`.
        message (str): What was changed and why.
        key (str, optional): Tells apart several changes of one fix, each
            announced once. Defaults to ``name``.
    """
    key = key or name
    if key in _announced:
        return
    _announced.add(key)
    from mmengine.logging import print_log
    print_log(
        f'fitnets_mm.compat.{name}: {message} (set {ENV_VAR}={name} to '
        'turn this off)',
        logger='current',
        level=logging.INFO)


def compat_module(name: str) -> types.ModuleType:
    """Import ``fitnets_mm.compat.<name>`` without importing ``fitnets_mm``.

    Args:
        name (str): The file name in ``fitnets_mm/compat`` without ``.py``.

    Returns:
        ModuleType: The module, registered in ``sys.modules`` under its full
        name so that ``import fitnets_mm`` reuses it.
    """
    full = f'fitnets_mm.compat.{name}'
    if full in sys.modules:
        return sys.modules[full]
    package = importlib.util.find_spec('fitnets_mm')
    if package is None or not package.submodule_search_locations:
        raise ImportError('fitnets_mm_startup needs the fitnets_mm package, '
                          'which was not found')
    folder = list(package.submodule_search_locations)[0]
    spec = importlib.util.spec_from_file_location(
        full, osp.join(folder, 'compat', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[full]
        raise
    return module


class _FixingLoader(importlib.abc.Loader):
    """Runs the real loader, then (or around it) one fix."""

    def __init__(self, loader: importlib.abc.Loader,
                 fix: Tuple[str, str, str]) -> None:
        self._loader = loader
        self._fix = fix

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        file, func, when = self._fix
        if not fix_enabled(file):
            self._loader.exec_module(module)
            return
        apply: Callable = getattr(compat_module(file), func)
        if when == 'around':
            apply(module, self._loader.exec_module)
        else:
            self._loader.exec_module(module)
            apply(sys.modules.get(module.__name__, module))

    def __getattr__(self, item: str) -> Any:
        # get_code, get_source, is_package ... of the real loader.
        return getattr(self._loader, item)


class MMRazorFixFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of the modules in :data:`FIXES`."""

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]],
        target: Optional[types.ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        fix = FIXES.get(fullname)
        if fix is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is None or isinstance(spec.loader, _FixingLoader):
            return spec
        spec.loader = _FixingLoader(spec.loader, fix)
        return spec


def install(startup: bool = True) -> bool:
    """Put :class:`MMRazorFixFinder` first on ``sys.meta_path`` (once).

    Args:
        startup (bool): True when called by the ``.pth`` file at interpreter
            start (``startup_hook`` in ``FITNETS_MM_COMPAT_OFF`` skips it);
            ``import fitnets_mm`` passes False, since its modules need
            MMRazor. Defaults to True.

    Returns:
        bool: Whether the finder is installed.
    """
    if startup and not fix_enabled('startup_hook'):
        return False
    if not any(isinstance(f, MMRazorFixFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MMRazorFixFinder())
    return True
