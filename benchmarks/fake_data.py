"""Fake datasets in the real on-disk formats, for benchmarks and tests.

* :func:`write_fake_cifar10`: ``cifar-10-batches-py`` as the official
  archive unpacks it (pickled dicts with ``data`` uint8 (N, 3072) and
  ``labels``), which MMPretrain's and torchvision's ``CIFAR10`` read.
  MMPretrain checks each file's md5 against the official ones;
  :func:`use_cifar10_checksums` points the class at the fake files'.
* :func:`write_fake_jpegs`: an ImageNet-style folder of JPEGs of ImageNet's
  typical size (500 x 375), one sub-folder per class, as
  ``CustomDataset`` reads it.
"""
import hashlib
import pickle
from pathlib import Path
from typing import Dict, Union

import numpy as np

__all__ = ['write_fake_cifar10', 'use_cifar10_checksums', 'write_fake_jpegs']

CIFAR10_FILES = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def write_fake_cifar10(root: Union[str, Path], per_batch: int = 10000,
                       seed: int = 0) -> Dict[str, str]:
    """Write ``root/cifar-10-batches-py`` with random images.

    Args:
        root (str | Path): The dataset's ``data_root``.
        per_batch (int): Images per batch file (the real files hold 10000).
            Defaults to 10000.
        seed (int): Seed of the images and labels. Defaults to 0.

    Returns:
        dict: md5 of every file written, by file name.
    """
    base = Path(root) / 'cifar-10-batches-py'
    base.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    md5s = {}
    for name in CIFAR10_FILES:
        batch = {
            'batch_label': name,
            'data': rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            'labels': rng.integers(0, 10, per_batch).tolist(),
        }
        with open(base / name, 'wb') as f:
            pickle.dump(batch, f)
        md5s[name] = _md5(base / name)
    with open(base / 'batches.meta', 'wb') as f:
        pickle.dump({'label_names': [f'class{i}' for i in range(10)]}, f)
    md5s['batches.meta'] = _md5(base / 'batches.meta')
    return md5s


def use_cifar10_checksums(md5s: Dict[str, str]) -> None:
    """Make MMPretrain's ``CIFAR10`` accept the fake files (this process and
    the dataloader workers it forks)."""
    from mmpretrain.datasets import CIFAR10
    CIFAR10.train_list = [[n, md5s[n]] for n in CIFAR10_FILES[:5]]
    CIFAR10.test_list = [['test_batch', md5s['test_batch']]]
    CIFAR10.meta = dict(filename='batches.meta', key='label_names',
                        md5=md5s['batches.meta'])


def write_fake_jpegs(root: Union[str, Path], num: int = 64,
                     classes: int = 4, size=(375, 500),
                     seed: int = 0) -> Path:
    """Write ``num`` smooth random JPEGs (quality 90) under
    ``root/train/class<k>/``; returns ``root/train``."""
    import cv2
    rng = np.random.default_rng(seed)
    train = Path(root) / 'train'
    h, w = size
    for i in range(num):
        folder = train / f'class{i % classes}'
        folder.mkdir(parents=True, exist_ok=True)
        # low-frequency content compresses like a photograph, unlike noise
        small = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        img = np.clip(img.astype(np.int16) +
                      rng.integers(-8, 9, img.shape), 0, 255).astype(np.uint8)
        cv2.imwrite(str(folder / f'{i:06d}.JPEG'), img,
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
    return train
