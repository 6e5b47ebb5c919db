"""``fitnets_mm.compat.dataset_download``: CIFAR / MNIST that cannot be
downloaded give one clear error and leave no empty ``data_root``."""
import socket
import time
from pathlib import Path

import pytest
from mmengine.registry import DefaultScope
from mmpretrain.datasets import CIFAR10, MNIST
from mmpretrain.registry import DATASETS

import fitnets_mm  # noqa: F401  (installs the patch)
from fitnets_mm.compat import DatasetDownloadError
from conftest import find_free_port


def _build(dataset: str, data_root: Path) -> None:
    # Scoped: a default scope left set would leak into other tests.
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        DATASETS.build(dict(type=dataset, data_root=str(data_root),
                            test_mode=True, pipeline=[]))


@pytest.mark.parametrize('dataset', ['MNIST', 'CIFAR10'])
def test_refused_download_is_one_clear_error(
        dataset: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    base = f'http://127.0.0.1:{find_free_port()}/'  # nothing listens
    if dataset == 'MNIST':
        monkeypatch.setattr(MNIST, 'url_prefix', base)
        url = base + MNIST.train_list[0][0]
    else:
        url = base + 'cifar-10-python.tar.gz'
        monkeypatch.setattr(CIFAR10, 'url', url)
    data_root = tmp_path / 'data' / dataset.lower()
    with pytest.raises(DatasetDownloadError) as err:
        _build(dataset, data_root)
    message = str(err.value)
    for part in (url, 'refused', f'data_root {str(data_root)!r}',
                 '--cfg-options train_dataloader.dataset.data_root=DIR'):
        assert part in message, f'{part!r} not in {message!r}'
    assert len(message.splitlines()) == 1
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert not (tmp_path / 'data').exists()  # no empty folders left


def test_relative_data_root_is_said_to_be_read_from_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MNIST, 'url_prefix',
                        f'http://127.0.0.1:{find_free_port()}/')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetDownloadError) as err:
        _build('MNIST', Path('data') / 'mnist')
    assert ("data_root 'data/mnist' (a relative data_root is read from the "
            f'current folder, {tmp_path})') in str(err.value)
    assert len(str(err.value).splitlines()) == 1


def test_existing_data_root_is_kept(tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(MNIST, 'url_prefix',
                        f'http://127.0.0.1:{find_free_port()}/')
    data_root = tmp_path / 'mnist'
    data_root.mkdir()
    with pytest.raises(DatasetDownloadError):
        _build('MNIST', data_root)
    assert data_root.is_dir()


def test_silent_server_times_out(tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('FITNETS_MM_DOWNLOAD_TIMEOUT', '0.5')
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen(8)  # accepts, never answers
        monkeypatch.setattr(MNIST, 'url_prefix',
                            f'http://127.0.0.1:{sock.getsockname()[1]}/')
        start = time.monotonic()
        with pytest.raises(DatasetDownloadError, match='no answer within'):
            _build('MNIST', tmp_path / 'mnist')
        assert time.monotonic() - start < 15
