"""A fixture of the dataset tests: fake CIFAR-10 files in the real format."""
import pytest

from utils.benchmarks import load_benchmark

_fake_data = load_benchmark('fake_data')
use_cifar10_checksums = _fake_data.use_cifar10_checksums
write_fake_cifar10 = _fake_data.write_fake_cifar10


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    """100 fake CIFAR-10 training images (and 100 test) in ``tmp_path``,
    under MMPretrain's default scope."""
    import fitnets_mm  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmpretrain.datasets import CIFAR10
    for attr in ('train_list', 'test_list', 'meta'):
        monkeypatch.setattr(CIFAR10, attr, getattr(CIFAR10, attr))
    use_cifar10_checksums(write_fake_cifar10(tmp_path, per_batch=20))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield str(tmp_path)
