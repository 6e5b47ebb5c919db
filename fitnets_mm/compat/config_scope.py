"""Let mmengine resolve ``fitnets_mm::`` config paths, as ``mmpretrain::``.

mmengine maps the scope of a ``scope::path`` config to its package in
``mmengine.config.utils.MODULE2PACKAGE`` and refuses scopes it does not
know. :func:`register_config_scope` adds ``fitnets_mm`` (once, on
``import fitnets_mm``), so that ``_base_ = ['fitnets_mm::fitnets/...py']``
and ``cfg_path='fitnets_mm::...'`` read ``fitnets_mm/.mim/configs``, the
package's configs as ``mim`` expects them (see ``setup.py``).

mmengine finds a package's folder with ``get_installed_path``, which joins
the distribution's location and the package name. For an editable install
(``pip install -e .``, PEP 660) that location is site-packages, where
fitnets_mm is not, so the lookup of ``fitnets_mm`` (and of no other
package) is answered with the folder Python imports it from. This is a
change to mmengine's lookups, announced once when it first answers and
turned off with ``FITNETS_MM_COMPAT_OFF=config_scope``.
"""
import importlib.util
import os.path as osp
from typing import Callable

__all__ = ['SCOPE', 'package_path', 'register_config_scope']

SCOPE = 'fitnets_mm'


def package_path() -> str:
    """The folder ``fitnets_mm`` is imported from."""
    return osp.dirname(importlib.util.find_spec(SCOPE).origin)


def _announce() -> None:
    from .switches import announce_once
    announce_once(
        'config_scope', "mmengine's config and hub lookups of the "
        f'{SCOPE!r} package answer the folder it is imported from, so that '
        f'`{SCOPE}::` config paths work with an editable install')


def _answer_for_fitnets_mm(get_installed_path: Callable) -> Callable:
    if getattr(get_installed_path, '__wrapped__', None) is not None:
        return get_installed_path

    def wrapper(package: str) -> str:
        if package == SCOPE:
            _announce()
            return package_path()
        return get_installed_path(package)

    wrapper.__wrapped__ = get_installed_path
    wrapper.__doc__ = get_installed_path.__doc__
    return wrapper


def register_config_scope() -> None:
    """Add ``fitnets_mm`` to mmengine's scope table and path lookups."""
    import mmengine.config.config as config_module
    import mmengine.hub.hub as hub_module
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault(SCOPE, SCOPE)
    for module in (config_module, hub_module):
        module.get_installed_path = _answer_for_fitnets_mm(
            module.get_installed_path)
