"""ArrayBatchDataset fetches a whole batch at once, and its samples equal the
wrapped dataset's."""
import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT
from utils.benchmarks import load_benchmark

fake_data = load_benchmark('fake_data')
use_cifar10_checksums = fake_data.use_cifar10_checksums
write_fake_cifar10 = fake_data.write_fake_cifar10

BATCH_AUG = ('configs/fitnets/'
             'fitnets_resnet34-resnet50-thin_1xb128_cifar10_batch-aug.py')


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    import fitnets_mm  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmpretrain.datasets import CIFAR10
    for attr in ('train_list', 'test_list', 'meta'):
        monkeypatch.setattr(CIFAR10, attr, getattr(CIFAR10, attr))
    use_cifar10_checksums(write_fake_cifar10(tmp_path, per_batch=20))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        yield str(tmp_path)


def _same_sample(a: dict, b: dict) -> None:
    assert torch.equal(a['inputs'], b['inputs'])
    assert a['inputs'].dtype == torch.uint8
    assert torch.equal(a['data_samples'].gt_label, b['data_samples'].gt_label)
    assert a['data_samples'].metainfo == b['data_samples'].metainfo


def _wrap(inner: dict):
    from mmpretrain.registry import DATASETS
    return (DATASETS.build(dict(type='ArrayBatchDataset', dataset=inner)),
            DATASETS.build(inner))


def test_cifar_samples_equal_the_wrapped_dataset(cifar_root) -> None:
    wrapped, inner = _wrap(dict(type='CIFAR10', data_root=cifar_root,
                                split='train',
                                pipeline=[dict(type='PackInputs')]))
    assert len(wrapped) == len(inner) == 100
    assert wrapped.metainfo['classes'] == inner.metainfo['classes']
    indices = [3, 0, 99, 42, -1]
    for i, got in zip(indices, wrapped.__getitems__(indices)):
        _same_sample(got, inner[i])
    _same_sample(wrapped[7], inner[7])


def test_mnist_samples_equal_the_wrapped_dataset(mnist_root) -> None:
    import fitnets_mm  # noqa: F401
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        wrapped, inner = _wrap(dict(type='MNIST', data_root=str(mnist_root),
                                    test_mode=True,
                                    pipeline=[dict(type='PackInputs')]))
    assert wrapped.images.shape[1:] == (1, 28, 28)
    for i, got in zip([0, 1999], wrapped.__getitems__([0, 1999])):
        _same_sample(got, inner[i])


def test_batch_aug_loader_fetches_whole_batches(cifar_root,
                                                monkeypatch) -> None:
    from mmengine.runner import Runner

    from fitnets_mm.datasets import ArrayBatchDataset
    calls = []
    original = ArrayBatchDataset.__getitems__

    def spy(self, indices):
        calls.append(len(indices))
        return original(self, indices)

    monkeypatch.setattr(ArrayBatchDataset, '__getitems__', spy)
    cfg = Config.fromfile(REPO_ROOT / BATCH_AUG).train_dataloader.to_dict()
    cfg['dataset']['dataset']['data_root'] = cifar_root
    cfg.update(batch_size=16, num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(cfg, seed=0)
    batches = list(loader)
    assert calls == [16] * 6 + [4]  # one fetch per batch, 100 images
    inputs = batches[0]['inputs']
    assert inputs.shape == (16, 3, 32, 32) and inputs.dtype == torch.uint8
    inner = loader.dataset.dataset
    first = [s.sample_idx for s in batches[0]['data_samples']]
    assert torch.equal(inputs, torch.stack([inner[i]['inputs']
                                            for i in first]))


def test_rejects_a_pipeline_that_augments(cifar_root) -> None:
    with pytest.raises(ValueError, match=r"\['RandomFlip', 'PackInputs'\]"):
        _wrap(dict(type='CIFAR10', data_root=cifar_root, split='train',
                   pipeline=[dict(type='RandomFlip', prob=0.5),
                             dict(type='PackInputs')]))
