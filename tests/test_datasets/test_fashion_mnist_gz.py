"""FashionMNISTGz reads the official .gz idx files where they lie, equals
MMPretrain's FashionMNIST on the extracted files, and names the file and
data_root when one is missing or damaged."""
import gzip
import os
import shutil

import numpy as np
import pytest

import fitnets_mm  # noqa: F401
from fitnets_mm.datasets import FashionMNISTGz, IdxFileError
from fitnets_mm.datasets.fashion_mnist_gz import DEBIAN_ROOT

NAMES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
         't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b''.join(
        int(n).to_bytes(4, 'big') for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_fashion(root, n_train=6, n_test=4, seed=0, gz=True):
    """Tiny Fashion-MNIST files in the official layout; returns arrays."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (('train', n_train), ('t10k', n_test)):
        arrays[f'{split}-images-idx3-ubyte'] = rng.integers(
            0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f'{split}-labels-idx1-ubyte'] = rng.integers(
            0, 10, (n, ), dtype=np.uint8)
    os.makedirs(root, exist_ok=True)
    for name, array in arrays.items():
        if gz:
            with gzip.open(os.path.join(root, name + '.gz'), 'wb') as f:
                f.write(_idx(array))
        else:
            with open(os.path.join(root, name), 'wb') as f:
                f.write(_idx(array))
    return arrays


def test_reads_the_gz_files_in_order(tmp_path):
    arrays = write_fashion(tmp_path)
    for test_mode, split, n in ((False, 'train', 6), (True, 't10k', 4)):
        ds = FashionMNISTGz(data_root=str(tmp_path), test_mode=test_mode,
                            pipeline=[dict(type='PackInputs')])
        assert len(ds) == n
        for i in range(n):
            info = ds.get_data_info(i)
            np.testing.assert_array_equal(
                info['img'], arrays[f'{split}-images-idx3-ubyte'][i])
            assert int(info['gt_label']) == int(
                arrays[f'{split}-labels-idx1-ubyte'][i])
            assert info['sample_idx'] == i
        sample = ds[1]
        assert tuple(sample['inputs'].shape) == (1, 28, 28)
        assert sample['data_samples'].sample_idx == 1
    # nothing was written next to the files
    assert sorted(os.listdir(tmp_path)) == sorted(n + '.gz' for n in NAMES)


def test_equals_mmpretrain_fashion_mnist_on_extracted_files(tmp_path):
    from mmpretrain.datasets import FashionMNIST
    write_fashion(tmp_path / 'gz')
    write_fashion(tmp_path / 'raw', gz=False)
    for test_mode in (False, True):
        ours = FashionMNISTGz(data_root=str(tmp_path / 'gz'),
                              test_mode=test_mode)
        theirs = FashionMNIST(data_root=str(tmp_path / 'raw'),
                              test_mode=test_mode, download=False)
        assert len(ours) == len(theirs)
        for i in range(len(ours)):
            a, b = ours.get_data_info(i), theirs.get_data_info(i)
            np.testing.assert_array_equal(a['img'], b['img'])
            assert a['img'].dtype == b['img'].dtype
            assert a['gt_label'] == b['gt_label']
            assert a['gt_label'].dtype == b['gt_label'].dtype
        assert ours.metainfo['classes'] == theirs.metainfo['classes']


def test_missing_file_names_it_and_data_root(tmp_path):
    write_fashion(tmp_path)
    os.remove(tmp_path / 'train-labels-idx1-ubyte.gz')
    with pytest.raises(IdxFileError) as err:
        FashionMNISTGz(data_root=str(tmp_path))
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith('Fashion-MNIST file missing: ')
    assert str(tmp_path / 'train-labels-idx1-ubyte.gz') in message
    assert f'data_root {str(tmp_path)!r}' in message
    assert 'apt-get install dataset-fashion-mnist' in message
    # the test split does not need the training files
    assert len(FashionMNISTGz(data_root=str(tmp_path), test_mode=True)) == 4


@pytest.mark.parametrize('damage,expected', [
    (lambda raw: raw[:len(raw) // 2], 'cannot decompress'),
    (lambda raw: b'not a gzip file', 'cannot decompress'),
    (lambda raw: gzip.compress(gzip.decompress(raw)[:-5]),
     'holds 3147 bytes, expected 3152 for shape (4, 28, 28)'),
    (lambda raw: gzip.compress(b'\x00\x00\x08\x01' +
                               gzip.decompress(raw)[4:]), 'has header'),
])
def test_damaged_file_names_it_and_data_root(tmp_path, damage, expected):
    write_fashion(tmp_path)
    path = tmp_path / 't10k-images-idx3-ubyte.gz'
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(IdxFileError) as err:
        FashionMNISTGz(data_root=str(tmp_path), test_mode=True)
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith('Fashion-MNIST file damaged: ')
    assert expected in message
    assert str(path) in message and f'data_root {str(tmp_path)!r}' in message


def test_images_and_labels_must_agree(tmp_path):
    write_fashion(tmp_path)
    shutil.copy(tmp_path / 'train-labels-idx1-ubyte.gz',
                tmp_path / 't10k-labels-idx1-ubyte.gz')
    with pytest.raises(IdxFileError, match='holds 4 images and .* 6 labels'):
        FashionMNISTGz(data_root=str(tmp_path), test_mode=True)


def test_download_is_refused(tmp_path):
    with pytest.raises(ValueError, match='never downloads'):
        FashionMNISTGz(data_root=str(tmp_path), download=True)


@pytest.mark.skipif(not os.path.isdir(DEBIAN_ROOT),
                    reason=f'{DEBIAN_ROOT} absent: apt-get install '
                    'dataset-fashion-mnist')
def test_the_installed_debian_folder():
    train = FashionMNISTGz()
    test = FashionMNISTGz(test_mode=True)
    assert (len(train), len(test)) == (60000, 10000)
    labels = np.array([int(test.get_data_info(i)['gt_label'])
                       for i in range(len(test))])
    assert np.bincount(labels).tolist() == [1000] * 10
    assert train.get_data_info(0)['img'].shape == (28, 28)
