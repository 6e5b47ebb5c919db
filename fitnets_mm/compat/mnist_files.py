"""MNIST / Fashion-MNIST files that are short or damaged name themselves.

MMPretrain 1.2's ``MNIST`` (and ``FashionMNIST``, which shares its code)
reads ``train-images-idx3-ubyte`` and its siblings with
``read_sn3_pascalvincent_tensor(strict=False)``: a truncated file ends in
``RuntimeError: shape '[2000, 28, 28]' is invalid for input of size ...``
twenty frames deep, a file that is no IDX file in a bare
``AssertionError``, and images without as many labels are silently cut to
the shorter list. None of these names the file or ``data_root``.

:func:`patch_mnist_files` checks each file before MMPretrain reads it
(:func:`check_idx_file`: the IDX header, and the data size that header
promises) and the image and label counts after, and raises one
:class:`DatasetFileError` that names the file, what was expected,
``data_root`` and how to get a good copy.
"""
import gzip
import lzma
import os.path as osp
from typing import Any, Callable, Dict, Tuple

import numpy as np

from .switches import announce_once

__all__ = ['DatasetFileError', 'check_idx_file', 'patch_mnist_files']

# IDX type byte -> (name, bytes per item), as in MMPretrain's typemap.
_IDX_TYPES: Dict[int, Tuple[str, int]] = {
    8: ('uint8', 1), 9: ('int8', 1), 11: ('int16', 2), 12: ('int32', 4),
    13: ('float32', 4), 14: ('float64', 8)
}


class DatasetFileError(ValueError):
    """A data set file is short, damaged or not in the expected format."""


# The shape of each file the checked readers read last, by path.
_SHAPES: Dict[str, Tuple[int, ...]] = {}


def _read(path: str) -> bytes:
    """The (decompressed) bytes of ``path``."""
    if path.endswith('.gz'):
        with gzip.open(path, 'rb') as f:
            return f.read()
    if path.endswith('.xz'):
        with lzma.open(path, 'rb') as f:
            return f.read()
    with open(path, 'rb') as f:
        return f.read()


def check_idx_file(path: str, ndim: int) -> Tuple[int, ...]:
    """Check that ``path`` is a whole IDX file of ``ndim`` uint8 dimensions.

    Args:
        path (str): An ``*-idx?-ubyte`` file (``.gz`` / ``.xz`` read
            decompressed).
        ndim (int): 3 for images, 1 for labels.

    Returns:
        tuple[int, ...]: The shape its header gives.

    Raises:
        DatasetFileError: One line: the file, what is wrong, what was
            expected.
    """
    expected = (f'an IDX file of {ndim}-D uint8 data (magic 0x0000080'
                f'{ndim}) whose size matches its header')
    try:
        data = _read(path)
    except (OSError, EOFError, lzma.LZMAError) as err:
        raise DatasetFileError(
            f'{path} cannot be read ({type(err).__name__}: {err}); expected '
            f'{expected}') from None
    if len(data) < 4:
        raise DatasetFileError(
            f'{path} holds {len(data)} bytes; expected {expected}')
    magic = int.from_bytes(data[:4], 'big')
    dims, type_byte = magic % 256, magic // 256
    if magic >> 16 or type_byte not in _IDX_TYPES or dims != ndim:
        raise DatasetFileError(
            f'{path} starts with 0x{data[:4].hex()}, not an IDX header of '
            f'{ndim}-D uint8 data; expected {expected}')
    header = 4 * (dims + 1)
    if len(data) < header:
        raise DatasetFileError(
            f'{path} ends inside its {header}-byte header ({len(data)} '
            f'bytes); expected {expected}')
    shape = tuple(int.from_bytes(data[4 * (i + 1):4 * (i + 2)], 'big')
                  for i in range(dims))
    name, itemsize = _IDX_TYPES[type_byte]
    promised = int(np.prod(shape)) * itemsize
    if type_byte != 8 or len(data) - header != promised:
        shown = ' x '.join(str(s) for s in shape)
        raise DatasetFileError(
            f'{path} holds {len(data) - header} bytes of {name} data after '
            f'its header, but its header promises {shown} = {promised}: the '
            f'file is truncated or damaged; expected {expected}')
    return shape


def _checked(read: Callable[[str], Any], ndim: int) -> Callable[[str], Any]:
    """``read`` (MMPretrain's reader) after :func:`check_idx_file`."""

    def read_checked(path: str) -> Any:
        _SHAPES[path] = check_idx_file(path, ndim)
        return read(path)

    read_checked.__wrapped__ = read  # type: ignore[attr-defined]
    return read_checked


def _load_data_list(load: Callable[[Any], list]) -> Callable[[Any], list]:
    """MMPretrain's ``MNIST.load_data_list`` with errors that name
    ``data_root``, and images and labels of one length."""

    def load_data_list(self: Any) -> list:
        announce_once('dataset_download', 'MNIST / Fashion-MNIST files are '
                      'checked as they are read; a short or damaged file '
                      'is named with data_root')
        root = self.data_root or self.data_prefix['root']
        fix = (f"(data_root {root!r}: replace the file with a good copy, or "
               'delete the data set files there to download them again, or '
               'point the config at a good copy: --cfg-options '
               'train_dataloader.dataset.data_root=DIR)')
        try:
            data_list = load(self)
        except DatasetFileError as err:
            raise DatasetFileError(
                f'{type(self).__name__}: {err} {fix}') from None
        files = self.test_list if self.test_mode else self.train_list
        images, labels = (osp.join(self.data_prefix['root'],
                                   osp.splitext(f[0])[0]) for f in files)
        counts = (_SHAPES.get(images, (0, ))[0],
                  _SHAPES.get(labels, (0, ))[0])
        if images in _SHAPES and labels in _SHAPES and \
                counts[0] != counts[1]:
            raise DatasetFileError(
                f'{type(self).__name__}: {images} holds {counts[0]} images '
                f'but {labels} holds {counts[1]} labels; expected one label '
                f'per image {fix}')
        return data_list

    load_data_list.__wrapped__ = load  # type: ignore[attr-defined]
    return load_data_list


def patch_mnist_files() -> None:
    """Check MNIST / Fashion-MNIST files as MMPretrain reads them
    (idempotent)."""
    from mmpretrain.datasets import mnist
    if hasattr(mnist.MNIST.load_data_list, '__wrapped__'):
        return
    mnist.read_image_file = _checked(mnist.read_image_file, 3)
    mnist.read_label_file = _checked(mnist.read_label_file, 1)
    mnist.MNIST.load_data_list = _load_data_list(mnist.MNIST.load_data_list)
