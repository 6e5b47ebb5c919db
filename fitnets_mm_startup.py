"""Interpreter-start hook of fitnets_mm: MMRazor works in any import order.

``pip install fitnets_mm`` puts ``fitnets_mm-mmrazor-compat.pth`` into
site-packages. Python runs its one line at every interpreter start, which
imports this module and calls :func:`install`. That costs a fraction of a
millisecond: this module imports nothing that the interpreter has not
already loaded (``os``, ``sys``), and :func:`install` only puts a small
finder at the front of ``sys.meta_path``. The finder answers ``None`` to
every import but those of the MMRazor modules in :data:`FIXES`. When one of
them is imported, and only then, the module is imported as usual and the
matching fix of ``fitnets_mm`` is loaded and applied to it. So
``import mmrazor.models`` works on torch 2.x in a fresh interpreter
(MMRazor's own ``tools/train.py`` and tests included) without importing
fitnets_mm first, and importing MMRazor changes MMRazor's modules only
(:data:`FIXES`), with one documented exception: ``import mmrazor`` adds
mmengine's checkpoint types to torch's weights-only allow-list
(``safe_checkpoint``), since MMRazor's tools and tests ``torch.load``
mmengine checkpoints. The same hook lets openmim's ``mim`` find an editable install
(:mod:`fitnets_mm.compat.mim_editable`). fitnets_mm itself is not imported
(it would register its modules as a hidden side effect).

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
    Unknown names are ignored with one warning line on stderr.
"""
import os
import sys

__all__ = [
    'ENV_VAR', 'FIXES', 'FIX_NAMES', 'MMRazorFixFinder', 'announce',
    'feature_module', 'fix_enabled', 'install'
]

ENV_VAR = 'FITNETS_MM_COMPAT_OFF'

#: Module imported -> (switch, fitnets_mm module, its function, when).
#: ``'around'`` functions get ``(module, exec_module)`` and run the import;
#: ``'after'`` functions get the freshly imported module.
FIXES = {
    'mmrazor': ('safe_checkpoint', 'fileio.safe_checkpoint',
                'allow_for_mmrazor', 'after'),
    'mmrazor.structures.quantization':
    ('mmrazor_import', 'compat.mmrazor_import', 'exec_with_fallback',
     'around'),
    'mmrazor.models.algorithms.base':
    ('mmrazor_inplace', 'compat.mmrazor_inplace',
     'patch_set_module_inplace_false', 'after'),
    'mmrazor.models.architectures.dynamic_ops.bricks.dynamic_container':
    ('mmrazor_inplace', 'compat.mmrazor_inplace', 'patch_dynamic_sequential',
     'after'),
    'mmrazor.models.losses.kd_soft_ce_loss':
    ('mmcls_rename', 'compat.mmcls_rename', 'patch_mmcls_rename', 'after'),
    'mmrazor.datasets.transforms.formatting':
    ('mmcls_rename', 'compat.mmcls_rename', 'explain_mmcls_placeholders',
     'after'),
    'mmrazor.registry.registry':
    ('mmcls_scope', 'compat.mmcls_scope', 'patch_mmrazor_models_builder',
     'after'),
    'mmrazor.utils.setup_env':
    ('mmcls_scope', 'compat.mmcls_scope', 'patch_register_all_modules',
     'after'),
    'mmrazor.models.losses':
    ('mmrazor_nhwc', 'compat.mmrazor_nhwc', 'patch_nhwc_losses', 'after'),
    # openmim's CLI: find fitnets_mm in an editable install.
    'mim.utils.utils':
    ('mim_editable', 'compat.mim_editable', 'patch_mim_utils', 'after'),
    'mim.commands.list':
    ('mim_editable', 'compat.mim_editable', 'patch_mim_list', 'after'),
    'mim.cli': ('mim_editable', 'compat.mim_editable', 'patch_mim_cli', 'after'),
}

#: Names accepted by ``FITNETS_MM_COMPAT_OFF``.
FIX_NAMES = ('startup_hook', 'mmrazor_import', 'mmrazor_inplace',
             'mmcls_rename', 'mmcls_scope', 'mmrazor_nhwc', 'config_scope',
             'safe_checkpoint', 'atomic_checkpoint', 'cpu_distributed',
             'dist_collect_dir', 'dataset_download', 'mim_editable')

_announced = set()
_warned = set()


def _switched_off() -> set:
    """The names in ``FITNETS_MM_COMPAT_OFF``; unknown ones are dropped with
    one warning line per process and value."""
    value = os.environ.get(ENV_VAR, '')
    off = {part.strip() for part in value.split(',') if part.strip()}
    unknown = off - set(FIX_NAMES) - {'all'}
    if unknown:
        if value not in _warned:
            _warned.add(value)
            sys.stderr.write(
                f'fitnets_mm: {ENV_VAR}={value!r} names unknown fixes '
                f'{sorted(unknown)}, ignored; expected a comma-separated list '
                f'of {", ".join(FIX_NAMES)} or all.\n')
        off -= unknown
    return off


def fix_enabled(name: str) -> bool:
    """Whether the fix ``name`` is on (not named in ``FITNETS_MM_COMPAT_OFF``).

    Args:
        name (str): One of :data:`FIX_NAMES`.

    Returns:
        bool: False if the variable lists ``name`` or ``all``.

    Raises:
        ValueError: ``name`` is not one of :data:`FIX_NAMES`.
    """
    if name not in FIX_NAMES:
        raise ValueError(f'unknown fitnets_mm fix {name!r}; expected one of '
                         f'{FIX_NAMES}')
    off = _switched_off()
    return name not in off and 'all' not in off


def announce(name: str, message: str, key: 'str | None' = None) -> None:
    """Log ``message`` once per process for the fix ``name``.

    The message ends with how to turn the fix off. Once a runner has made
    its logger, it goes to that logger (the run's log file and console);
    before, to standard error only, so that a program that imports MMRazor
    keeps its standard output for its own results (mmengine's default
    logger writes to standard output).

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
    import logging

    from mmengine.logging import MMLogger, print_log
    logger = 'current'
    if MMLogger.get_current_instance().instance_name == 'mmengine':
        logger = _stderr_logger()
    print_log(
        f'fitnets_mm.compat.{name}: {message} (set {ENV_VAR}={name} to '
        'turn this off)',
        logger=logger,
        level=logging.INFO)


def _stderr_logger() -> 'logging.Logger':  # noqa: F821
    """A logger that writes mmengine's console format to standard error (as
    ``sys.stderr`` is when a line is written, so redirections apply)."""
    import logging

    class CurrentStderrHandler(logging.StreamHandler):

        @property
        def stream(self) -> object:
            return sys.stderr

        @stream.setter
        def stream(self, value: object) -> None:
            pass

    logger = logging.getLogger('fitnets_mm.compat')
    if not logger.handlers:
        handler = CurrentStderrHandler()
        handler.setFormatter(logging.Formatter(
            '%(asctime)s - mmengine - %(levelname)s - %(message)s',
            '%m/%d %H:%M:%S'))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


def feature_module(name: str) -> 'types.ModuleType':  # noqa: F821
    """Import ``fitnets_mm.<name>`` without importing ``fitnets_mm``.

    Args:
        name (str): The module's dotted path inside the package, e.g.
            ``'compat.mmcls_scope'``.

    Returns:
        ModuleType: The module, registered in ``sys.modules`` under its full
        name so that ``import fitnets_mm`` reuses it.
    """
    full = f'fitnets_mm.{name}'
    if full in sys.modules:
        return sys.modules[full]
    import importlib.util
    package = importlib.util.find_spec('fitnets_mm')
    if package is None or not package.submodule_search_locations:
        raise ImportError('fitnets_mm_startup needs the fitnets_mm package, '
                          'which was not found')
    folder = list(package.submodule_search_locations)[0]
    spec = importlib.util.spec_from_file_location(
        full, os.path.join(folder, *name.split('.')) + '.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[full]
        raise
    return module


class _FixingLoader:
    """Runs the real loader, then (or around it) one fix."""

    def __init__(self, loader: object, fix: tuple) -> None:
        self._loader = loader
        self._fix = fix

    def create_module(self, spec: object) -> object:
        return self._loader.create_module(spec)

    def exec_module(self, module: object) -> None:
        switch, where, func, when = self._fix
        if not fix_enabled(switch):
            self._loader.exec_module(module)
            return
        apply = getattr(feature_module(where), func)
        if when == 'around':
            apply(module, self._loader.exec_module)
        else:
            self._loader.exec_module(module)
            apply(sys.modules.get(module.__name__, module))

    def __getattr__(self, item: str) -> object:
        # get_code, get_source, is_package ... of the real loader.
        return getattr(self._loader, item)


class MMRazorFixFinder:
    """Finds nothing itself; wraps the loader of the modules in :data:`FIXES`.

    A ``sys.meta_path`` finder (``importlib.abc.MetaPathFinder``'s protocol,
    without importing :mod:`importlib.abc` at interpreter start).
    """

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> object:
        """The spec of ``fullname`` with a fixing loader, or None.

        Args:
            fullname (str): The module being imported.
            path (Sequence[str], optional): Its parent package's path.
            target (ModuleType, optional): The module, on a reload.

        Returns:
            ModuleSpec | None: None for every module not in :data:`FIXES`.
        """
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

    def invalidate_caches(self) -> None:
        """Nothing cached."""


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
