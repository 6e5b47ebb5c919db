"""Resolve MMRazor's ``mmcls::`` configs and ``mmcls`` scope to MMPretrain.

MMRazor 1.0.0's configs were written for MMClassification 1.x (``mmcls``),
renamed MMPretrain. They name their bases and models ``mmcls::...``, some
types ``mmcls.X`` and some dicts ``_scope_='mmcls'``. Without ``mmcls``,
mmengine 0.10.7 fails on the first (``ModuleNotFoundError: mmcls is not
installed``) and, worse, ``mmengine.hub.get_model`` / ``get_config`` (which
MMRazor calls for ``architecture=dict(cfg_path='mmcls::...')``) run
``pip install mmcls`` by themselves, which installs mmcls 0.25 and breaks
the environment (MMCV version assertion).

Where ``mmcls`` is not importable and MMPretrain is, ``mmcls`` becomes an
alias of MMPretrain in two steps:

* **On ``import mmrazor.registry``** (:func:`patch_mmrazor_models_builder`,
  from :mod:`fitnets_mm_startup`'s hook), MMRazor's own ``MODELS`` builder,
  and nothing outside MMRazor, is changed: a model dict
  ``type='mmcls.X'`` is built as ``type='X', _scope_='mmpretrain'``, so that
  ``X`` builds its own parts in MMPretrain's scope as MMClassification's
  scoped defaults did (BYOT's ``mmcls.ImageClassifier`` would otherwise look
  its unscoped default ``ClsDataPreprocessor`` up in MMRazor's registry and
  fail), and ``cfg_path='mmcls::a/b.py'`` is built as
  ``cfg_path='mmpretrain::a/b.py'`` (mmengine's hub would otherwise
  ``pip install mmcls`` by itself, which installs mmcls 0.25 and breaks the
  environment).
* **When MMRazor's ``register_all_modules()`` runs** (MMRazor's own
  ``tools/train.py`` and ``tools/test.py`` call it before reading the
  config) **or on ``import fitnets_mm``** (:func:`patch_mmcls_scope`),
  mmengine's config and hub lookups and MMPretrain's registries learn the
  alias, for the whole process: ``Config._get_cfg_path`` and
  ``mmengine.hub.get_config`` / ``get_model`` read ``mmcls::a/b.py`` as
  ``mmpretrain::a/b.py``; ``MODULE2PACKAGE['mmcls']`` is ``'mmpretrain'``,
  so no code path of mmengine can pip-install ``mmcls``; every MMPretrain
  registry gets a sibling with scope ``mmcls`` (:class:`ScopeAliasRegistry`)
  sharing its module table, so ``type='mmcls.ResNet'`` and
  ``_scope_='mmcls'`` find MMPretrain's classes; and names MMPretrain
  renamed (:data:`~.mmcls_rename.RENAMED`, e.g. ``PackClsInputs``) are
  registered under their old name too.

Classes that MMRazor itself derives from ``mmcls`` at import time (DeiT's
``DeiTClsHead``, CRD's ``PackCRDClsInputs``) stay MMRazor's placeholders:
they need the ``mmcls`` package. The alias is announced once when first
used; ``FITNETS_MM_COMPAT_OFF=mmcls_scope`` turns it off. With ``mmcls``
installed nothing is touched.
"""
import importlib.util
import types
from typing import Any, Callable, List, Optional, Tuple

from mmengine.registry import Registry

__all__ = [
    'ScopeAliasRegistry', 'patch_mmcls_scope', 'patch_mmrazor_models_builder',
    'patch_register_all_modules', 'translate_cfg_path'
]

ALIAS = 'mmcls'
TARGET = 'mmpretrain'

_patched = False


def _announce() -> None:
    from fitnets_mm_startup import announce
    announce(
        'mmcls_scope',
        f'{ALIAS!r} (MMClassification, renamed MMPretrain) is resolved to '
        f'{TARGET!r}: `{ALIAS}::` config paths, `{ALIAS}.` types and '
        f"`_scope_='{ALIAS}'` use MMPretrain's configs and registries "
        f'(mmcls is not installed and is never pip-installed)')


def translate_cfg_path(cfg_path: Any) -> Any:
    """Return ``cfg_path`` with a leading ``mmcls::`` read as ``mmpretrain::``.

    Args:
        cfg_path (Any): A config path; anything else is returned unchanged.

    Returns:
        Any: The translated path.
    """
    if isinstance(cfg_path, str) and cfg_path.startswith(f'{ALIAS}::'):
        _announce()
        return f'{TARGET}::' + cfg_path[len(ALIAS) + 2:]
    return cfg_path


class ScopeAliasRegistry(Registry):
    """A registry under another scope that shares ``target``'s modules.

    Args:
        target (Registry): The registry aliased (an MMPretrain one).
        alias (str): The scope under which it is found, e.g. ``'mmcls'``.
    """

    def __init__(self, target: Registry, alias: str) -> None:
        super().__init__(
            target.name,
            build_func=target.build_func,
            parent=target.parent,
            scope=alias,
            locations=list(target._locations))
        self._module_dict = target._module_dict
        self.target = target

    def get(self, key: str) -> Any:
        """Announce the alias, then look ``key`` up in the shared table."""
        _announce()
        return super().get(key)

    def import_from_location(self) -> None:
        """Import the target's modules (they register in the shared table)."""
        self.target.import_from_location()


def _alias_registries() -> List[str]:
    import mmpretrain.registry as pretrain_registry
    added = []
    for name in dir(pretrain_registry):
        registry = getattr(pretrain_registry, name)
        if (not isinstance(registry, Registry) or registry.scope != TARGET
                or registry.parent is None
                or ALIAS in registry.parent._children):
            continue
        ScopeAliasRegistry(registry, ALIAS)
        added.append(name)
    return added


def _wrap_first_arg(func: Callable) -> Callable:
    def wrapper(cfg_path: str, *args: Any, **kwargs: Any) -> Any:
        return func(translate_cfg_path(cfg_path), *args, **kwargs)

    wrapper.__wrapped__ = func
    wrapper.__doc__ = func.__doc__
    wrapper.__name__ = func.__name__
    return wrapper


def _alias_applies() -> bool:
    """Whether ``mmcls`` is missing and MMPretrain is there."""
    return (importlib.util.find_spec(ALIAS) is None
            and importlib.util.find_spec(TARGET) is not None)


def _build_in_target_scope(build_func: Callable) -> Callable:
    def build(cfg: Any, *args: Any, **kwargs: Any) -> Any:
        obj_type = cfg.get('type') if hasattr(cfg, 'get') else None
        if (isinstance(obj_type, str) and obj_type.startswith(f'{ALIAS}.')
                and '_scope_' not in cfg):
            _announce()
            cfg = cfg.copy()
            cfg['type'] = obj_type[len(ALIAS) + 1:]
            cfg['_scope_'] = TARGET
        cfg_path = cfg.get('cfg_path') if hasattr(cfg, 'get') else None
        if translate_cfg_path(cfg_path) != cfg_path:
            cfg = cfg.copy()
            cfg['cfg_path'] = translate_cfg_path(cfg_path)
        return build_func(cfg, *args, **kwargs)

    build.__wrapped__ = build_func
    return build


def patch_mmrazor_models_builder(
        module: Optional[types.ModuleType] = None) -> bool:
    """Build MMRazor's ``mmcls.X`` models and ``mmcls::`` paths with
    MMPretrain (MMRazor's ``MODELS`` builder only; see module doc).

    Args:
        module (ModuleType, optional): ``mmrazor.registry.registry``;
            imported when not given (the import hook of
            :mod:`fitnets_mm_startup` passes it). Defaults to None.

    Returns:
        bool: Whether the builder translates (False with ``mmcls``
        installed or without MMPretrain).
    """
    if not _alias_applies():
        return False
    if module is None:
        from mmrazor.registry import registry as module
    if getattr(module.MODELS.build_func, '__wrapped__', None) is None:
        module.MODELS.build_func = _build_in_target_scope(
            module.MODELS.build_func)
    return True


def patch_register_all_modules(module: types.ModuleType) -> None:
    """Make MMRazor's ``register_all_modules`` also alias ``mmcls`` in
    mmengine (:func:`patch_mmcls_scope`), as MMRazor's tools need it to
    read its ``mmcls::`` configs.

    Args:
        module (ModuleType): ``mmrazor.utils.setup_env``.
    """
    original = module.register_all_modules
    if getattr(original, '__wrapped__', None) is not None:
        return

    def register_all_modules(init_default_scope: bool = True) -> None:
        original(init_default_scope)
        import fitnets_mm_startup
        if fitnets_mm_startup.fix_enabled('mmcls_scope'):
            patch_mmcls_scope()

    register_all_modules.__wrapped__ = original
    register_all_modules.__doc__ = original.__doc__
    module.register_all_modules = register_all_modules


def _register_renamed() -> List[str]:
    """Register MMPretrain's renamed classes under their ``mmcls`` names."""
    import importlib
    from .mmcls_rename import RENAMED
    added = []
    for (registry_name, old), (where, new) in RENAMED.items():
        registry = getattr(importlib.import_module('mmpretrain.registry'),
                           registry_name)
        if old in registry._module_dict:
            continue
        registry.register_module(
            name=old, module=getattr(importlib.import_module(where), new))
        added.append(old)
    return added


def patch_mmcls_scope(module: Optional[types.ModuleType] = None) -> bool:
    """Alias ``mmcls`` to MMPretrain in mmengine (once; see module doc).

    Args:
        module (ModuleType, optional): ``mmrazor.registry.registry``, whose
            ``MODELS`` builder is wrapped; imported when not given.
            Defaults to None.

    Returns:
        bool: Whether the alias is in force (False with ``mmcls`` installed
        or without MMPretrain).
    """
    global _patched
    if _patched:
        return True
    if not _alias_applies():
        return False
    import mmengine.hub
    import mmengine.hub.hub as hub_module
    from mmengine.config import Config
    from mmengine.config import utils as config_utils

    config_utils.MODULE2PACKAGE[ALIAS] = TARGET

    original = Config._get_cfg_path

    def _get_cfg_path(cfg_path: str,
                      filename: str) -> Tuple[str, Optional[str]]:
        translated = translate_cfg_path(cfg_path)
        try:
            return original(translated, filename)
        except FileNotFoundError as err:
            if translated == cfg_path:
                raise
            raise FileNotFoundError(
                f'{cfg_path!r} (in {filename}) was read as {translated!r}, '
                f'but MMPretrain has no such config ({err}). The config '
                'was renamed or dropped when MMClassification became '
                'MMPretrain: use the MMPretrain name, or install '
                'MMClassification 1.x (`mmcls`) for this config') from err

    _get_cfg_path.__wrapped__ = original
    Config._get_cfg_path = staticmethod(_get_cfg_path)
    for name in ('get_config', 'get_model'):
        wrapped = _wrap_first_arg(getattr(hub_module, name))
        setattr(hub_module, name, wrapped)
        setattr(mmengine.hub, name, wrapped)
    _alias_registries()
    _register_renamed()
    patch_mmrazor_models_builder(module)
    _patched = True
    return True
