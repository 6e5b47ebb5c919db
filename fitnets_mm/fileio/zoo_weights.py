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
import importlib.util
import os
import os.path as osp
from typing import List

__all__ = ['ZOO_PREFIX', 'ZooWeightsNotFound', 'zoo_folder', 'zoo_names',
           'zoo_path']

#: How a config or a metafile names a checkpoint of the zoo.
ZOO_PREFIX = 'fitnets_mm://'


class ZooWeightsNotFound(FileNotFoundError):
    """A ``fitnets_mm://`` path names no file of the shipped zoo."""


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
    folder = zoo_folder()
    rel = url[len(ZOO_PREFIX):]
    path = osp.normpath(osp.join(folder, *rel.split('/')))
    if osp.isabs(rel) or not path.startswith(folder + os.sep):
        raise ValueError(f'{url!r} leaves the model zoo; expected '
                         f'{ZOO_PREFIX}DATASET/NAME.pth')
    if not osp.isfile(path):
        known = zoo_names() if osp.isdir(folder) else []
        raise ZooWeightsNotFound(
            f'{url} is not in the model zoo shipped with fitnets_mm '
            f'({folder}); expected one of: '
            f'{", ".join(known) if known else "(the zoo folder is empty)"}')
    return path
