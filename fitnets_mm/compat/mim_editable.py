"""Let ``mim`` find fitnets_mm when it is installed with ``pip install -e .``.

openmim 0.3.9 finds a package's folder by joining its distribution's
location and its name (``mim.utils.get_installed_path``; ``mim list`` does
the same inline). For an editable install (PEP 660, the only kind pip >= 25
makes) that location is site-packages, where ``fitnets_mm`` is not: the
package is imported from the source tree through setuptools' import hook.
So ``mim train fitnets_mm CONFIG`` ran ``site-packages/fitnets_mm/.mim/
tools/train.py`` ("can't open file"), ``mim search`` found no
``model-index.yml`` and ``mim list`` left fitnets_mm out; from a wheel all
of them worked. The metafiles' ``Weights`` are ``fitnets_mm://`` paths
(the model zoo shipped with the package), which mim's ``requests`` cannot
fetch; ``mim download`` copies them instead, from a wheel too.

The functions here are applied by :mod:`fitnets_mm_startup`'s import
hook when ``mim`` imports the module they fix, and change the answer for
``fitnets_mm`` only, to the folder Python imports it from (the answer
mmengine gets for ``fitnets_mm::`` config paths, see
:mod:`fitnets_mm.compat.config_scope`). Every other package, and fitnets_mm
installed from a wheel, is answered by mim's own code. They import neither
mmengine nor fitnets_mm, so mim starts as fast as before. Turned off with
``FITNETS_MM_COMPAT_OFF=mim_editable``.
"""
import importlib.util
import os.path as osp
import shutil
import types
from typing import Callable, List, Optional

from fitnets_mm_startup import feature_module

__all__ = [
    'PACKAGE', 'editable_path', 'patch_mim_cli', 'patch_mim_list',
    'patch_mim_utils'
]

#: The distribution (and module) whose lookups are answered here.
PACKAGE = 'fitnets_mm'

#: Set on the wrappers (mim's own functions already carry ``__wrapped__``).
_MARK = '_fitnets_mm_editable'


def editable_path(package: str) -> Optional[str]:
    """The folder ``package`` is imported from, if it is fitnets_mm.

    Args:
        package (str): A distribution name as mim receives it
            (``fitnets_mm`` or ``fitnets-mm``).

    Returns:
        str | None: fitnets_mm's folder if it has mim's ``.mim`` folder;
        None for any other package, or when it cannot be found.
    """
    if package.replace('-', '_').lower() != PACKAGE:
        return None
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.origin:
        return None
    folder = osp.dirname(spec.origin)
    return folder if osp.isdir(osp.join(folder, '.mim')) else None


def patch_mim_utils(module: types.ModuleType) -> None:
    """Wrap ``mim.utils.utils.get_installed_path`` and ``download_from_file``
    (before mim re-exports them).

    ``download_from_file`` copies a ``fitnets_mm://`` path (a ``Weights``
    entry of fitnets_mm's metafiles, the model zoo shipped with the package,
    :mod:`fitnets_mm.fileio.zoo_weights`) instead of asking ``requests``
    for it, so ``mim download fitnets_mm --config ID`` works offline; any
    other URL is downloaded by mim.

    Args:
        module (ModuleType): ``mim.utils.utils``, just executed.
    """
    original: Callable[[str], str] = module.get_installed_path
    if getattr(original, _MARK, False):
        return

    def get_installed_path(package: str) -> str:
        found = original(package)
        if osp.exists(found):
            return found
        return editable_path(package) or found

    setattr(get_installed_path, _MARK, True)
    get_installed_path.__doc__ = original.__doc__
    module.get_installed_path = get_installed_path
    module.download_from_file = _download_with_zoo(module.download_from_file)


def _download_with_zoo(original: Callable[..., None]) -> Callable[..., None]:
    """Wrap mim's ``download_from_file`` to copy ``fitnets_mm://`` paths."""

    def download_from_file(url: str, dest_path: str, *args: object,
                           **kwargs: object) -> None:
        zoo = feature_module('fileio.zoo_weights')
        if not url.startswith(zoo.ZOO_PREFIX):
            return original(url, dest_path, *args, **kwargs)
        source = zoo.zoo_path(url)
        zoo.check_name_hash(source, url)
        shutil.copyfile(source, dest_path)

    setattr(download_from_file, _MARK, True)
    download_from_file.__doc__ = original.__doc__
    return download_from_file


def _list_with_fitnets_mm(original: Callable[..., List[tuple]],
                          pkg_resources: types.ModuleType) -> Callable:
    """Wrap a ``list_package`` to add an editable fitnets_mm's row."""
    if getattr(original, _MARK, False):
        return original

    def list_package(all: bool = False) -> List[tuple]:
        rows = original(all=all)
        names = {row[0].replace('-', '_').lower() for row in rows}
        folder = editable_path(PACKAGE)
        if all or PACKAGE in names or folder is None or not osp.isfile(
                osp.join(folder, '.mim', 'model-index.yml')):
            return rows
        try:
            dist = pkg_resources.get_distribution(PACKAGE)
        except Exception:  # not installed, only on sys.path: not listed
            return rows
        rows.append((dist.project_name, dist.version, folder))
        rows.sort(key=lambda row: row[0])
        return rows

    setattr(list_package, _MARK, True)
    list_package.__doc__ = original.__doc__
    return list_package


def patch_mim_list(module: types.ModuleType) -> None:
    """Wrap ``mim.commands.list.list_package`` (mim's Python API).

    Args:
        module (ModuleType): ``mim.commands.list``, just executed.
    """
    module.list_package = _list_with_fitnets_mm(module.list_package,
                                                module.pkg_resources)


def patch_mim_cli(module: types.ModuleType) -> None:
    """Wrap the ``mim list`` command that ``mim.cli.MIM`` builds.

    The ``mim`` command runs each command's file in a fresh namespace
    instead of importing it, so ``mim list`` does not see the wrapped
    :func:`patch_mim_list`; its namespace's ``list_package`` is wrapped here.

    Args:
        module (ModuleType): ``mim.cli``, just executed.
    """
    original = module.MIM.get_command
    if getattr(original, _MARK, False):
        return

    def get_command(self: object, ctx: object, name: str) -> object:
        command = original(self, ctx, name)
        scope = getattr(getattr(command, 'callback', None), '__globals__',
                        {})
        if 'list_package' in scope and 'pkg_resources' in scope:
            scope['list_package'] = _list_with_fitnets_mm(
                scope['list_package'], scope['pkg_resources'])
        return command

    setattr(get_command, _MARK, True)
    module.MIM.get_command = get_command
