"""The model zoo's weights, shipped with fitnets_mm: ``fitnets_mm://`` paths.

The zoo's checkpoints are small (the paper's MNIST-sized networks, about
1.4 MB for a teacher) and ship with the package, in ``zoo/`` of the source
tree, which is ``fitnets_mm/.mim/zoo`` of an install (a link in a checkout,
a copy in a wheel, as ``configs`` and ``tools``). A metafile's ``Weights``
names one as ``fitnets_mm://DATASET/NAME-HASH.pth``, in the manner of
mmengine's ``open-mmlab://`` and ``torchvision://``; mmengine loads such a
path offline (``teacher_ckpt``, ``load_from``, ``tools/test.py``; see
:mod:`.checkpoint_loaders`) and ``mim download`` copies the file (see
:mod:`fitnets_mm.compat.mim_editable`).

This module imports nothing outside the standard library, so that ``mim``
resolves these paths without importing torch or fitnets_mm.
"""
import hashlib
import importlib.util
import os
import os.path as osp
import re
from typing import List

__all__ = ['ZOO_PREFIX', 'ZooWeightsDamaged', 'ZooWeightsNotFound',
           'check_name_hash', 'zoo_folder', 'zoo_names', 'zoo_path']

#: How a config or a metafile names a checkpoint of the zoo.
ZOO_PREFIX = 'fitnets_mm://'


class ZooWeightsNotFound(FileNotFoundError):
    """A ``fitnets_mm://`` path names no file of the shipped zoo."""


class ZooWeightsDamaged(OSError):
    """A file of the zoo does not have the SHA-256 its name promises."""


#: ``NAME_DATE-0123abcd.pth``: the first hex digits of the file's SHA-256.
_NAME_HASH = re.compile(r'-([0-9a-f]{8,64})\.pth$')


def check_name_hash(path: str, url: str) -> None:
    """Raise unless ``path``'s SHA-256 starts with the hash in ``url``'s
    name (a name without one is not checked).

    Args:
        path (str): The file.
        url (str): Its ``fitnets_mm://`` path.

    Raises:
        ZooWeightsDamaged: The hashes differ.
    """
    match = _NAME_HASH.search(url)
    if match is None:
        return
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    actual = digest.hexdigest()
    if not actual.startswith(match.group(1)):
        raise ZooWeightsDamaged(
            f'{url} ({path}) has SHA-256 {actual[:len(match.group(1))]}..., '
            f'but its name promises {match.group(1)}: the file is damaged; '
            'reinstall fitnets_mm or restore zoo/ from git')


def zoo_folder() -> str:
    """The folder of the zoo's files in the fitnets_mm that Python imports.

    Returns:
        str: ``<fitnets_mm>/.mim/zoo`` (which may not exist if the install
        holds no zoo).
    """
    spec = importlib.util.find_spec('fitnets_mm')
    if spec is None or not spec.submodule_search_locations:
        raise ZooWeightsNotFound('the fitnets_mm package was not found, so '
                                 'its model zoo was not either')
    package = list(spec.submodule_search_locations)[0]
    return osp.join(package, '.mim', 'zoo')


def zoo_names() -> List[str]:
    """The checkpoints of the zoo, as ``fitnets_mm://`` paths.

    Returns:
        list[str]: Sorted, e.g. ``['fitnets_mm://fashion-mnist/...pth']``.
    """
    folder = zoo_folder()
    names = []
    for root, _, files in os.walk(folder, followlinks=True):
        for name in files:
            if name.endswith('.pth'):
                rel = osp.relpath(osp.join(root, name), folder)
                names.append(ZOO_PREFIX + rel.replace(os.sep, '/'))
    return sorted(names)


def zoo_path(url: str) -> str:
    """The local file of a ``fitnets_mm://`` path.

    Args:
        url (str): ``fitnets_mm://DATASET/NAME.pth``.

    Returns:
        str: The file's path under :func:`zoo_folder`.

    Raises:
        ValueError: ``url`` does not start with :data:`ZOO_PREFIX`, or
            leaves the zoo's folder (``..``).
        ZooWeightsNotFound: No such file; the message lists the zoo.
    """
    if not url.startswith(ZOO_PREFIX):
        raise ValueError(f'{url!r} is not a model zoo path; expected '
                         f'{ZOO_PREFIX}DATASET/NAME.pth')
    folder = osp.normpath(osp.abspath(zoo_folder()))
    rel = url[len(ZOO_PREFIX):]
    path = osp.normpath(osp.join(folder, *rel.split('/')))
    if osp.isabs(rel) or '\\' in rel or \
            osp.commonpath([folder, path]) != folder or path == folder:
        raise ValueError(f'{url!r} leaves the model zoo; expected '
                         f'{ZOO_PREFIX}DATASET/NAME.pth')
    if not osp.isfile(path):
        known = zoo_names() if osp.isdir(folder) else []
        raise ZooWeightsNotFound(
            f'{url} is not in the model zoo shipped with fitnets_mm '
            f'({folder}); expected one of: '
            f'{", ".join(known) if known else "(the zoo folder is empty)"}')
    return path
