"""Fashion-MNIST read from the four official ``.gz`` files, as installed.

Debian's ``dataset-fashion-mnist`` package (``apt-get install
dataset-fashion-mnist``) installs the official files, still compressed and
read-only, in ``/usr/share/datasets/fashion-mnist``. MMPretrain's
``FashionMNIST`` expects them extracted and downloads (and writes) them when
they are not; :class:`FashionMNISTGz` reads the ``.gz`` files where they
lie and never writes.
"""
import gzip
import os.path as osp
import zlib
from typing import Dict, List, Tuple

import numpy as np
from mmpretrain.datasets import FashionMNIST
from mmpretrain.registry import DATASETS

__all__ = ['FashionMNISTGz', 'IdxFileError', 'read_idx_gz']

#: Debian's folder (package ``dataset-fashion-mnist``).
DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist'

#: idx type codes (the third byte of the magic number) -> numpy dtype.
IDX_TYPES = {8: np.uint8, 9: np.int8, 11: np.dtype('>i2'),
             12: np.dtype('>i4'), 13: np.dtype('>f4'), 14: np.dtype('>f8')}


class IdxFileError(RuntimeError):
    """An idx file is missing, unreadable or malformed."""


def read_idx_gz(path: str, ndim: int, data_root: str) -> np.ndarray:
    """Read one gzip-compressed idx file (``*-idx3-ubyte.gz`` etc.).

    Args:
        path (str): The ``.gz`` file.
        ndim (int): The number of dimensions expected (3 for images, 1 for
            labels).
        data_root (str): The dataset's ``data_root``, named in errors.

    Returns:
        np.ndarray: The array, of the file's dtype and shape.

    Raises:
        IdxFileError: The file is missing, not gzip, truncated, or its
            header does not describe an idx array of ``ndim`` dimensions.
    """
    where = (f'{path!r} (data_root {data_root!r}; install the official '
             'files with `apt-get install dataset-fashion-mnist`, '
             f'which puts them in {DEBIAN_ROOT})')
    if not osp.isfile(path):
        raise IdxFileError(f'Fashion-MNIST file missing: {where}.')
    try:
        with gzip.open(path, 'rb') as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:
        raise IdxFileError(
            f'Fashion-MNIST file damaged: cannot decompress {where}: '
            f'{err}.') from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in \
            IDX_TYPES or raw[3] != ndim:
        raise IdxFileError(
            f'Fashion-MNIST file damaged: {where} has header '
            f'{raw[:4].hex() or "(empty)"}, expected an idx file of '
            f'{ndim} dimension(s) (0000xx0{ndim}).')
    dtype = np.dtype(IDX_TYPES[raw[2]])
    head = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], 'big')
                  for i in range(ndim))
    expected = head + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise IdxFileError(
            f'Fashion-MNIST file damaged: {where} holds {len(raw)} bytes, '
            f'expected {expected} for shape {shape}.')
    return np.frombuffer(raw, dtype, offset=head).reshape(shape).astype(
        dtype.newbyteorder('='))


@DATASETS.register_module()
class FashionMNISTGz(FashionMNIST):
    """MMPretrain's ``FashionMNIST`` reading the official ``.gz`` files
    where they lie (e.g. Debian's read-only folder).

    Note:
        Nothing is downloaded, extracted or written. Samples equal those of
        MMPretrain's ``FashionMNIST`` on the extracted files (``img`` a
        28x28 uint8 array, ``gt_label`` an int64), in the files' order; the
        split follows ``test_mode``, as in MMPretrain.

    Args:
        data_root (str): The folder holding ``train-images-idx3-ubyte.gz``,
            ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``
            and ``t10k-labels-idx1-ubyte.gz``. Defaults to Debian's
            ``/usr/share/datasets/fashion-mnist``.
        **kwargs: The other arguments of MMPretrain's ``FashionMNIST``
            (``test_mode``, ``pipeline``, ``indices``, ...); ``download``
            is refused.

    Raises:
        IdxFileError: A file is missing or damaged; the message names it
            and ``data_root``.
    """

    def __init__(self, data_root: str = DEBIAN_ROOT, **kwargs) -> None:
        if kwargs.pop('download', False):
            raise ValueError(
                'FashionMNISTGz reads the installed files and never '
                'downloads, but got download=True; install them with '
                '`apt-get install dataset-fashion-mnist`.')
        if kwargs.get('test_mode') and 'split' not in kwargs:
            # MMPretrain chooses the files by `test_mode`; `split` only
            # warns when it disagrees.
            kwargs['split'] = 'test'
        super().__init__(data_root=data_root, download=False, **kwargs)

    def files(self) -> Tuple[str, str]:
        """The (images, labels) ``.gz`` files of this split."""
        names = self.test_list if self.test_mode else self.train_list
        root = self.data_prefix['root']
        return osp.join(root, names[0][0]), osp.join(root, names[1][0])

    def load_data_list(self) -> List[Dict]:
        """Read images and labels from the ``.gz`` files."""
        images_file, labels_file = self.files()
        images = read_idx_gz(images_file, 3, self.data_root)
        labels = read_idx_gz(labels_file, 1, self.data_root)
        if len(images) != len(labels):
            raise IdxFileError(
                f'Fashion-MNIST files disagree: {images_file!r} holds '
                f'{len(images)} images and {labels_file!r} {len(labels)} '
                f'labels (data_root {self.data_root!r}); expected one label '
                'per image.')
        return [{'img': img, 'gt_label': np.array(label, dtype=np.int64)}
                for img, label in zip(images, labels)]
