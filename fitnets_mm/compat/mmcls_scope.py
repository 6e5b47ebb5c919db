"""Resolve MMRazor's ``mmcls::`` configs and ``mmcls`` scope to MMPretrain.

MMRazor 1.0.0's configs were written for MMClassification 1.x (``mmcls``),
renamed MMPretrain. They name their bases and models ``mmcls::...``, some
types ``mmcls.X`` and some dicts ``_scope_='mmcls'``. Without ``mmcls``,
mmengine 0.10.7 fails on the first (``ModuleNotFoundError: mmcls is not
installed``) and, worse, ``mmengine.hub.get_model`` / ``get_config`` (which
MMRazor calls for ``architecture=dict(cfg_path='mmcls::...')``) run
``pip install mmcls`` by themselves, which installs mmcls 0.25 and breaks
the environment (MMCV version assertion).

Where ``mmcls`` is not importable and MMPretrain is, :func:`patch_mmcls_scope`
makes ``mmcls`` an alias of MMPretrain in mmengine, at the three points
where mmengine resolves it and nowhere else:

* config paths: ``Config._get_cfg_path`` and ``mmengine.hub.get_config`` /
  ``get_model`` read ``mmcls::a/b.py`` as ``mmpretrain::a/b.py`` (the base's
  dicts get ``_scope_='mmpretrain'``); ``MODULE2PACKAGE['mmcls']`` is
  ``'mmpretrain'``, so no code path of mmengine can pip-install ``mmcls``;
* registries: every MMPretrain registry gets a sibling with scope ``mmcls``
  (:class:`ScopeAliasRegistry`) sharing its module table, so
  ``type='mmcls.ResNet'`` and ``_scope_='mmcls'`` find MMPretrain's classes;
* MMRazor's model builder: a model dict ``type='mmcls.X'`` is built as
  ``type='X', _scope_='mmpretrain'``, so that ``X`` builds its own parts in
  MMPretrain's scope, as MMClassification's scoped defaults did (BYOT's
  ``mmcls.ImageClassifier`` would otherwise look its unscoped default
  ``ClsDataPreprocessor`` up in MMRazor's registry and fail).

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
    'ScopeAliasRegistry', 'patch_mmcls_scope', 'translate_cfg_path'
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


def _build_in_target_scope(build_func: Callable) -> Callable:
    def build(cfg: Any, *args: Any, **kwargs: Any) -> Any:
        obj_type = cfg.get('type') if hasattr(cfg, 'get') else None
        if (isinstance(obj_type, str) and obj_type.startswith(f'{ALIAS}.')
                and '_scope_' not in cfg):
            _announce()
            cfg = cfg.copy()
            cfg['type'] = obj_type[len(ALIAS) + 1:]
            cfg['_scope_'] = TARGET
        return build_func(cfg, *args, **kwargs)

    build.__wrapped__ = build_func
    return build


def patch_mmcls_scope(module: Optional[types.ModuleType] = None) -> bool:
    """Alias ``mmcls`` to MMPretrain in mmengine (once; see module doc).

    Args:
        module (ModuleType, optional): ``mmrazor.registry.registry``, whose
            ``MODELS`` builder is wrapped; imported when not given (the
            import hook of :mod:`fitnets_mm_startup` passes it). Defaults to
            None.

    Returns:
        bool: Whether the alias is in force (False with ``mmcls`` installed
        or without MMPretrain).
    """
    global _patched
    if _patched:
        return True
    if (importlib.util.find_spec(ALIAS) is not None
            or importlib.util.find_spec(TARGET) is None):
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
    if module is None:
        from mmrazor.registry import registry as module
    module.MODELS.build_func = _build_in_target_scope(module.MODELS.build_func)
    _patched = True
    return True
