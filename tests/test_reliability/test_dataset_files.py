"""Short or damaged MNIST / Fashion-MNIST files name the file, what was
expected and ``data_root`` (issue 21, D5).

On a68fb28 a truncated ``train-images-idx3-ubyte`` gave a raw
``RuntimeError: shape '[20, 28, 28]' is invalid`` naming neither.

Protection: :mod:`fitnets_mm.compat.mnist_files` (with the
``dataset_download`` fix).
"""
import gzip
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from mmpretrain.registry import DATASETS

import fitnets_mm  # noqa: F401  (installs the checks)
from conftest import find_free_port

N = 20


def _idx(data: np.ndarray) -> bytes:
    header = (0x0800 + data.ndim).to_bytes(4, 'big') + b''.join(
        int(s).to_bytes(4, 'big') for s in data.shape)
    return header + data.astype(np.uint8).tobytes()


def _write_mnist(root: Path) -> Path:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for split in ('train', 't10k'):
        (root / f'{split}-images-idx3-ubyte').write_bytes(
            _idx(rng.integers(0, 256, (N, 28, 28))))
        (root / f'{split}-labels-idx1-ubyte').write_bytes(
            _idx(rng.integers(0, 10, (N, ))))
    return root


def _build(dataset: str, data_root: Path) -> object:
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return DATASETS.build(dict(type=dataset, data_root=str(data_root),
                                   split='train', pipeline=[]))


@pytest.mark.parametrize('dataset', ['MNIST', 'FashionMNIST'])
def test_good_files_load(tmp_path: Path, dataset: str) -> None:
    data = _build(dataset, _write_mnist(tmp_path / 'd'))
    assert len(data) == N


@pytest.mark.parametrize('dataset', ['MNIST', 'FashionMNIST'])
def test_truncated_images_name_file_expectation_and_data_root(
        tmp_path: Path, dataset: str) -> None:
    root = _write_mnist(tmp_path / 'd')
    images = root / 'train-images-idx3-ubyte'
    images.write_bytes(images.read_bytes()[:16 + 28 * 28 * N // 2])
    with pytest.raises(ValueError) as err:
        _build(dataset, root)
    message = str(err.value)
    for part in (dataset, str(images), f'{28 * 28 * N // 2} bytes',
                 f'promises {N} x 28 x 28 = {28 * 28 * N}', 'truncated',
                 'expected an IDX file', f'data_root {str(root)!r}',
                 '--cfg-options train_dataloader.dataset.data_root=DIR'):
        assert part in message, f'{part!r} not in {message!r}'
    assert len(message.splitlines()) == 1


def test_damaged_labels_and_counts(tmp_path: Path) -> None:
    root = _write_mnist(tmp_path / 'd')
    labels = root / 'train-labels-idx1-ubyte'
    labels.write_bytes(b'<html>' + labels.read_bytes()[6:])
    with pytest.raises(ValueError, match=r'starts with 0x3c68746d, not an '
                       r'IDX header of 1-D uint8 data') as err:
        _build('MNIST', root)
    assert str(labels) in str(err.value)
    labels.write_bytes(_idx(np.zeros(N - 1)))  # one label short
    with pytest.raises(ValueError, match=f'holds {N} images but .* holds '
                       f'{N - 1} labels') as err:
        _build('MNIST', root)
    assert f'data_root {str(root)!r}' in str(err.value)


def test_truncated_gz_is_named(tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A partial ``.gz`` left in ``data_root``, with no way to download a
    good one: the error names the ``.gz`` and why it is not used."""
    from mmpretrain.datasets import MNIST
    from fitnets_mm.compat import DatasetDownloadError
    from fitnets_mm.compat.mnist_files import DatasetFileError, \
        check_idx_file
    root = tmp_path / 'd'
    root.mkdir()
    gz = root / 'train-images-idx3-ubyte.gz'
    gz.write_bytes(gzip.compress(_idx(
        np.random.default_rng(0).integers(0, 256, (N, 28, 28))))[:2000])
    with pytest.raises(DatasetFileError, match='cannot be read'):
        check_idx_file(str(gz), 3)
    monkeypatch.setattr(MNIST, 'url_prefix',
                        f'http://127.0.0.1:{find_free_port()}/')
    with pytest.raises(DatasetDownloadError) as err:
        _build('MNIST', root)
    message = str(err.value)
    for part in (str(gz), 'md5 is not', f'data_root {str(root)!r}'):
        assert part in message, f'{part!r} not in {message!r}'
