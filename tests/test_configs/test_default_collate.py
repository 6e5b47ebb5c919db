"""The configs' stacked batches (``default_collate``) carry the same data as
the lists of ``pseudo_collate`` did: same images, same augmentations, same
labels, only stacked into one tensor."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT
from utils.benchmarks import load_benchmark

fake_data = load_benchmark('fake_data')
use_cifar10_checksums = fake_data.use_cifar10_checksums
write_fake_cifar10 = fake_data.write_fake_cifar10

CONFIGS = [
    'configs/fitnet_cifar10.py',
    'configs/fitnets/paper/fitnet4_maxout-teacher_1xb128_cifar10.py',
]


def _batches(loader_cfg: dict, seed: int, n: int) -> list:
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    np.random.seed(seed)  # the transforms draw from NumPy's global state
    out = []
    for i, batch in enumerate(loader):
        if i == n:
            break
        out.append(batch)
    return out


@pytest.mark.parametrize('config', CONFIGS)
def test_stacked_batches_equal_pseudo_collate(config, tmp_path,
                                              monkeypatch) -> None:
    import fitnets_mm  # noqa: F401
    from mmengine.registry import DefaultScope
    from mmpretrain.datasets import CIFAR10
    for attr in ('train_list', 'test_list', 'meta'):
        monkeypatch.setattr(CIFAR10, attr, getattr(CIFAR10, attr))
    use_cifar10_checksums(write_fake_cifar10(tmp_path, per_batch=40))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        _check_config(config, tmp_path)


def _check_config(config: str, tmp_path) -> None:
    cfg = Config.fromfile(REPO_ROOT / config)
    new = cfg.train_dataloader.to_dict()
    assert new['collate_fn'] == dict(type='default_collate')
    assert new['persistent_workers'] and new['pin_memory']
    new.update(batch_size=16, num_workers=0, persistent_workers=False)
    new['dataset']['data_root'] = str(tmp_path)
    old = dict(new, collate_fn=dict(type='pseudo_collate'))
    assert [t['type'] for t in new['dataset']['pipeline']][-1] == \
        'PackInputs'
    new_batches = _batches(new, seed=7, n=4)
    old_batches = _batches(old, seed=7, n=4)
    assert len(new_batches) == len(old_batches) == 4
    for a, b in zip(new_batches, old_batches):
        assert isinstance(a['inputs'], torch.Tensor)
        assert isinstance(b['inputs'], list) and len(b['inputs']) == 16
        assert a['inputs'].dtype == torch.uint8
        assert torch.equal(a['inputs'], torch.stack(b['inputs']))
        assert [int(s.gt_label) for s in a['data_samples']] == \
            [int(s.gt_label) for s in b['data_samples']]
