"""The CIFAR configs download their data through MMPretrain's real code path.

The machines that run these tests reach no outside host, so the test builds
a small archive in the official CIFAR layout, serves it on 127.0.0.1, points
the dataset class's URL and checksums at it, and builds the main config's
training dataset: MMPretrain downloads, checks the md5, extracts and loads
it exactly as it would from the real URL.
"""
import hashlib
import pickle
import tarfile
from pathlib import Path
from typing import Tuple

import numpy as np
import pytest
from mmengine.config import Config

from conftest import REPO_ROOT


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _fake_cifar10(folder: Path, per_batch: int = 4) -> Tuple[Path, dict]:
    """A cifar-10-python.tar.gz with ``per_batch`` images per batch file."""
    base = folder / 'cifar-10-batches-py'
    base.mkdir(parents=True)
    rng = np.random.default_rng(0)
    md5s = {}
    names = [f'data_batch_{i}' for i in range(1, 6)] + ['test_batch']
    for name in names:
        batch = {
            'data': rng.integers(0, 255, (per_batch, 3072), dtype=np.uint8),
            'labels': list(rng.integers(0, 10, per_batch).tolist()),
        }
        with open(base / name, 'wb') as f:
            pickle.dump(batch, f)
        md5s[name] = _md5(base / name)
    with open(base / 'batches.meta', 'wb') as f:
        pickle.dump({'label_names': [f'c{i}' for i in range(10)]}, f)
    md5s['batches.meta'] = _md5(base / 'batches.meta')
    archive = folder / 'cifar-10-python.tar.gz'
    with tarfile.open(archive, 'w:gz') as tar:
        tar.add(base, arcname='cifar-10-batches-py')
    return archive, md5s


def test_main_config_downloads_cifar10(http_server: Tuple[Path, str],
                                       tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import fitnets_mm  # noqa: F401
    from mmengine.registry import init_default_scope
    from mmpretrain.datasets import CIFAR10
    from mmpretrain.registry import DATASETS

    served, url = http_server
    archive, md5s = _fake_cifar10(tmp_path / 'build')
    (served / archive.name).write_bytes(archive.read_bytes())
    monkeypatch.setattr(CIFAR10, 'url', f'{url}/{archive.name}')
    monkeypatch.setattr(CIFAR10, 'tgz_md5', _md5(archive))
    monkeypatch.setattr(CIFAR10, 'train_list',
                        [[f'data_batch_{i}', md5s[f'data_batch_{i}']]
                         for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, 'test_list',
                        [['test_batch', md5s['test_batch']]])
    monkeypatch.setattr(CIFAR10, 'meta', {
        'filename': 'batches.meta',
        'key': 'label_names',
        'md5': md5s['batches.meta']
    })

    cfg = Config.fromfile(REPO_ROOT / 'configs' / 'fitnet_cifar10.py')
    data_root = tmp_path / 'data' / 'cifar10'
    init_default_scope('mmpretrain')
    train = DATASETS.build(
        dict(cfg.train_dataloader.dataset, data_root=str(data_root)))
    test = DATASETS.build(
        dict(cfg.val_dataloader.dataset, data_root=str(data_root)))

    assert (data_root / archive.name).is_file()  # downloaded
    assert (data_root / 'cifar-10-batches-py' / 'test_batch').is_file()
    assert len(train) == 5 * 4 and len(test) == 4
    sample = train[0]  # the config's pipeline runs on it
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
