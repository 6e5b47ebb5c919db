"""CIFAR / MNIST downloads that time out and fail with one clear error.

MMPretrain 1.2's ``CIFAR10``/``CIFAR100``/``MNIST``/``FashionMNIST``
download their files into ``data_root`` when they are missing, through
``download_and_extract_archive``: without a timeout, with a retry over
plain HTTP, and, where the download is refused, with a 38-frame
``URLError`` that names neither ``data_root`` nor how to point the config
elsewhere, leaving the empty ``data_root`` it created behind.

:func:`patch_dataset_download` replaces that function in the two dataset
modules by :func:`download_and_extract_archive`, which downloads with
:func:`fitnets_mm.fileio.downloads.download` (connect and read timeout,
nothing partial left), checks the md5 as MMPretrain does, and on failure
removes the folders it created and raises one :class:`DatasetDownloadError`
naming the URL, ``data_root`` and the ``--cfg-options`` override. It
happens while the dataloaders are built, before the first iteration.

Downloads have the deadline of :func:`~.downloads.download`, and an archive
is kept only once its md5 matches (where MMPretrain gives one) and it reads
to its end (:func:`~.download_checks.archive_check`). The environment
variable ``FITNETS_MM_DATASET_MIRROR`` (a base URL, e.g.
``http://mirror.local/datasets/``) replaces the host and folder of every
data set URL, keeping the file name: for offline mirrors, and for tests.
The same fix checks the MNIST / Fashion-MNIST files as they are read
(:mod:`.mnist_files`).
"""
import os
import os.path as osp
from typing import List, Optional
from urllib.parse import urlparse

from ..fileio.download_checks import archive_check
from ..fileio.downloads import DownloadError, download
from .switches import announce_once

__all__ = [
    'DatasetDownloadError', 'MIRROR_ENV', 'dataset_url',
    'download_and_extract_archive', 'patch_dataset_download'
]

#: The environment variable that points data set downloads at a mirror.
MIRROR_ENV = 'FITNETS_MM_DATASET_MIRROR'

_MODULES = ('mmpretrain.datasets.cifar', 'mmpretrain.datasets.mnist')


class DatasetDownloadError(DownloadError):
    """A data set's files are missing from ``data_root`` and could not be
    downloaded."""


def _missing_folders(path: str) -> List[str]:
    """``path`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    path = osp.abspath(path)
    while not osp.exists(path):
        missing.append(path)
        parent = osp.dirname(path)
        if parent == path:
            break
        path = parent
    return missing


def dataset_url(url: str) -> str:
    """``url``, or its file at the mirror ``FITNETS_MM_DATASET_MIRROR``.

    Args:
        url (str): The URL MMPretrain downloads from.

    Returns:
        str: ``MIRROR/<file name of url>`` if the variable is set, else
        ``url``.
    """
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return url
    return mirror.rstrip('/') + '/' + osp.basename(urlparse(url).path)


def download_and_extract_archive(url: str,
                                 download_root: str,
                                 extract_root: Optional[str] = None,
                                 filename: Optional[str] = None,
                                 md5: Optional[str] = None,
                                 remove_finished: bool = False) -> None:
    """MMPretrain's function of this name, with a timeout and a clear error.

    Args:
        url (str): The file to download.
        download_root (str): The dataset's folder (its ``data_root``).
        extract_root (str, optional): Where to extract. Defaults to
            ``download_root``.
        filename (str, optional): Name to save under. Defaults to the URL's.
        md5 (str, optional): Expected md5 of the file. Defaults to None.
        remove_finished (bool): Delete the archive after extracting.
            Defaults to False.

    Raises:
        DatasetDownloadError: The download failed or fails its md5; folders
            this call created are removed if they stayed empty.
    """
    from mmpretrain.datasets.utils import check_integrity, extract_archive
    announce_once('dataset_download', 'data set downloads have a timeout '
                  'and one clear error')
    url = dataset_url(url)
    root = osp.normpath(osp.expanduser(download_root))
    created = _missing_folders(root)
    path = osp.join(root, filename or osp.basename(url))
    try:
        if not check_integrity(path, md5):
            present = osp.isfile(path)
            try:
                download(url, path, hash_prefix='',
                         check=archive_check(url, path, md5))
            except DownloadError as err:
                if not present:
                    raise
                raise DownloadError(
                    f'{path} is there but its md5 is not {md5} (a partial '
                    f'or damaged download), and {err}') from None
    except DownloadError as err:
        for folder in created:  # deepest first; only if still empty
            try:
                os.rmdir(folder)
            except OSError:
                break
        mirror = '' if os.environ.get(MIRROR_ENV) else (
            f', or a mirror of its files: {MIRROR_ENV}=URL')
        where = '' if osp.isabs(root) else (
            ' (a relative data_root is read from the current folder, '
            f'{os.getcwd()})')
        raise DatasetDownloadError(
            f'{err}. The data set is missing from data_root {root!r}{where}: '
            'put '
            'its files there, or point the config at a copy: --cfg-options '
            'train_dataloader.dataset.data_root=DIR '
            'val_dataloader.dataset.data_root=DIR '
            f'test_dataloader.dataset.data_root=DIR{mirror}') from None
    extract_archive(path, extract_root or root, remove_finished)


def patch_dataset_download() -> None:
    """Install :func:`download_and_extract_archive` in MMPretrain's CIFAR
    and MNIST modules, and the file checks of :mod:`.mnist_files`
    (idempotent)."""
    import importlib

    from .mnist_files import patch_mnist_files
    for name in _MODULES:
        module = importlib.import_module(name)
        module.download_and_extract_archive = download_and_extract_archive
    patch_mnist_files()
