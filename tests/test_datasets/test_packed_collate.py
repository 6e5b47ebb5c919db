"""packed_collate gives the batches of default_collate (and so, up to
layout, of pseudo_collate), and a worker ships them as a few arrays."""
import pickle
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import torch
import torch.multiprocessing  # noqa: F401  (registers tensor reductions)
from mmengine.config import Config

from conftest import REPO_ROOT
from fake_cifar import cifar_root  # noqa: F401  (a fixture)

MAIN = 'configs/fitnet_cifar10.py'
BATCH_AUG = ('configs/fitnets/'
             'fitnets_resnet34-resnet50-thin_1xb128_cifar10_batch-aug.py')


def _loader_cfg(config: str, root: str, collate: str, workers: int) -> dict:
    cfg = Config.fromfile(REPO_ROOT / config).train_dataloader.to_dict()
    dataset = cfg['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    dataset['data_root'] = root
    cfg.update(batch_size=16, num_workers=workers,
               persistent_workers=False, pin_memory=False,
               collate_fn=dict(type=collate))
    return cfg


def _batches(cfg: dict, n: int = 3) -> list:
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(cfg, seed=7)
    np.random.seed(7)  # the transforms draw from NumPy's global state
    torch.manual_seed(7)
    out = []
    for batch in loader:
        out.append(batch)
        if len(out) == n:
            break
    return out


def _assert_same(new: list, old: list, stacked_old: bool = True) -> None:
    from mmpretrain.structures import DataSample
    assert len(new) == len(old) > 0
    for a, b in zip(new, old):
        assert isinstance(a['inputs'], torch.Tensor)
        assert a['inputs'].dtype == torch.uint8
        old_inputs = b['inputs'] if stacked_old else torch.stack(b['inputs'])
        assert torch.equal(a['inputs'], old_inputs)
        assert type(a['data_samples']) is list
        assert len(a['data_samples']) == len(b['data_samples'])
        for s, t in zip(a['data_samples'], b['data_samples']):
            assert type(s) is DataSample
            assert s.metainfo == t.metainfo
            assert set(s.keys()) == set(t.keys()) == {'gt_label'}
            assert s.gt_label.dtype == t.gt_label.dtype
            assert torch.equal(s.gt_label, t.gt_label)


@pytest.mark.parametrize('old', ['default_collate', 'pseudo_collate'])
def test_standard_pipeline_same_batches(cifar_root, old) -> None:
    new = _batches(_loader_cfg(MAIN, cifar_root, 'packed_collate', 0))
    ref = _batches(_loader_cfg(MAIN, cifar_root, old, 0))
    _assert_same(new, ref, stacked_old=old == 'default_collate')


def test_batch_aug_from_a_worker_same_batches(cifar_root) -> None:
    new = _batches(_loader_cfg(BATCH_AUG, cifar_root, 'packed_collate', 1))
    ref = _batches(_loader_cfg(BATCH_AUG, cifar_root, 'pseudo_collate', 0))
    _assert_same(new, ref, stacked_old=False)


def test_worker_batch_pickles_as_arrays(cifar_root) -> None:
    from mmpretrain.registry import DATASETS

    from fitnets_mm.datasets import PackedDataSamples, packed_collate
    dataset = DATASETS.build(dict(
        type='CIFAR10', data_root=cifar_root, split='train',
        pipeline=[dict(type='RandomFlip', prob=0.5),
                  dict(type='PackInputs')]))
    samples = [dataset[i] for i in (5, 0, 17)]
    packed = PackedDataSamples.pack([s['data_samples'] for s in samples])
    payload = bytes(ForkingPickler.dumps(packed))
    # no tensor (each would need its own shared-memory segment): arrays
    assert b'rebuild' not in payload and b'torch' not in payload
    got = pickle.loads(payload)
    assert [s.metainfo for s in got] == \
        [s['data_samples'].metainfo for s in samples]
    assert [s.gt_label.tolist() for s in got] == \
        [s['data_samples'].gt_label.tolist() for s in samples]
    # in the main process the collate returns the list itself
    assert type(packed_collate(samples)['data_samples']) is list


def test_rejects_fields_it_cannot_stack() -> None:
    from mmpretrain.structures import DataSample

    from fitnets_mm.datasets import packed_collate
    a = DataSample().set_gt_label(1)
    b = DataSample().set_gt_label(2).set_gt_score(torch.ones(3))
    with pytest.raises(TypeError, match='same fields'):
        packed_collate([dict(inputs=torch.zeros(2), data_samples=a),
                        dict(inputs=torch.zeros(2), data_samples=b)])
    with pytest.raises(TypeError, match=r"keys \['img'\]"):
        packed_collate([dict(img=torch.zeros(2))])
