"""Data set downloads can be pointed at a mirror
(``FITNETS_MM_DATASET_MIRROR``), and a mirror that is silent, drips, or
answers with an HTML page ends in one clear error, by the deadline, with
nothing kept in ``data_root`` (issue 21).

Servers: :mod:`utils.bad_servers` and the ``http_server`` fixture on
127.0.0.1.
"""
import hashlib
import shutil
import socket
import time
from pathlib import Path
from typing import Tuple

import pytest
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS

import fitnets_mm  # noqa: F401  (installs the patch)
from fitnets_mm.compat import DatasetDownloadError
from utils import bad_servers

FASHION_MNIST = Path('/usr/share/datasets/fashion-mnist')


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')


def _build(dataset: str, data_root: Path) -> object:
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(dict(type=dataset, data_root=str(data_root),
                                   test_mode=True, pipeline=[]))


@pytest.mark.skipif(not FASHION_MNIST.is_dir(),
                    reason='needs the Debian package dataset-fashion-mnist')
def test_fashion_mnist_downloads_from_the_mirror(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        http_server: Tuple[Path, str]) -> None:
    """The Debian package's files (recompressed: other md5s than
    MMPretrain's, which are set to theirs here)."""
    from mmpretrain.datasets import FashionMNIST
    root, base = http_server
    for gz in FASHION_MNIST.glob('*.gz'):
        shutil.copy(gz, root / gz.name)
    for name in ('train_list', 'test_list'):
        monkeypatch.setattr(FashionMNIST, name, [
            [gz, hashlib.md5((root / gz).read_bytes()).hexdigest()]
            for gz, _ in getattr(FashionMNIST, name)])
    monkeypatch.setenv('FITNETS_MM_DATASET_MIRROR', f'{base}/')
    data = _build('FashionMNIST', tmp_path / 'fashion')
    assert len(data) == 10000
    assert (tmp_path / 'fashion' / 'train-images-idx3-ubyte').stat(
        ).st_size == 16 + 60000 * 28 * 28


def _mirror_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  base: str, dataset: str) -> Tuple[str, float]:
    monkeypatch.setenv('FITNETS_MM_DATASET_MIRROR', base)
    start = time.monotonic()
    with pytest.raises(DatasetDownloadError) as err:
        _build(dataset, tmp_path / 'data' / dataset.lower())
    seconds = time.monotonic() - start
    message = str(err.value)
    assert len(message.splitlines()) == 1
    assert not (tmp_path / 'data').exists()  # nothing kept, no empty folder
    return message, seconds


@pytest.mark.parametrize('dataset', ['MNIST', 'FashionMNIST', 'CIFAR10'])
def test_silent_mirror_times_out(tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 dataset: str) -> None:
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_TIMEOUT', '0.5')
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen(8)  # accepts, never answers
        base = f'http://127.0.0.1:{sock.getsockname()[1]}/mirror'
        message, seconds = _mirror_error(tmp_path, monkeypatch, base,
                                         dataset)
    assert seconds < 10, seconds
    for part in (f'{base}/', 'no answer within 0.5 s', 'data_root'):
        assert part in message, f'{part!r} not in {message!r}'


@pytest.mark.parametrize('dataset', ['MNIST', 'CIFAR10'])
def test_dripping_mirror_ends_at_the_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        dataset: str) -> None:
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_DEADLINE', '1')
    with bad_servers.serve(bad_servers.drip(0.1)) as base:
        message, seconds = _mirror_error(tmp_path, monkeypatch, base,
                                         dataset)
    assert seconds < 6, seconds
    for part in (base, 'deadline of 1 s', 'FITNETS_MM_DOWNLOAD_DEADLINE',
                 'data_root'):
        assert part in message, f'{part!r} not in {message!r}'


@pytest.mark.parametrize('dataset', ['MNIST', 'CIFAR10'])
def test_html_answer_is_not_kept(tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 dataset: str) -> None:
    with bad_servers.serve(bad_servers.html_page()) as base:
        message, _ = _mirror_error(tmp_path, monkeypatch, base, dataset)
    for part in (base, 'an HTML page, 88 bytes', 'not a valid archive',
                 'data_root'):
        assert part in message, f'{part!r} not in {message!r}'
