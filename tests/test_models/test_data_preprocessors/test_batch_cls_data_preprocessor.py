"""BatchClsDataPreprocessor: MMPretrain's preprocessing plus per-batch crop
and flip in training, channels_last output and non-blocking copies."""
import pytest
import torch
from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.structures import DataSample

from fitnets_mm.models.data_preprocessors import (BatchClsDataPreprocessor,
                                                  batch_crop_flip)

NORM = dict(mean=[125.3, 123.0, 113.9], std=[51.6, 50.8, 51.3],
            num_classes=10)


def _batch(n: int = 8) -> dict:
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8,
                           generator=gen)
    samples = [DataSample().set_gt_label(i % 10) for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)


def test_same_as_mmpretrain_with_the_options_off() -> None:
    data = _batch()
    ours = BatchClsDataPreprocessor(channels_last=False, **NORM)(
        data, training=True)
    ref = ClsDataPreprocessor(**NORM)(data, training=True)
    assert torch.equal(ours['inputs'], ref['inputs'])
    assert ours['data_samples'] is data['data_samples']
    assert ours['inputs'].is_contiguous()


def test_crop_flip_in_training_only() -> None:
    data = _batch()
    pre = BatchClsDataPreprocessor(
        crop_flip=dict(padding=4, flip_prob=0.5), **NORM)
    ref = ClsDataPreprocessor(**NORM)
    torch.manual_seed(3)
    out = pre(data, training=True)['inputs']
    torch.manual_seed(3)
    augmented = batch_crop_flip(data['inputs'], padding=4, flip_prob=0.5)
    assert not torch.equal(augmented, data['inputs'])
    expected = ref(dict(data, inputs=augmented), training=True)['inputs']
    assert torch.equal(out, expected)
    # evaluation batches are left as they are
    assert torch.equal(pre(data, training=False)['inputs'],
                       ref(data, training=False)['inputs'])


def test_crop_flip_stacks_a_list_batch() -> None:
    data = _batch(4)
    pre = BatchClsDataPreprocessor(crop_flip=dict(padding=4), **NORM)
    listed = dict(data, inputs=list(data['inputs']))
    torch.manual_seed(5)
    a = pre(listed, training=True)['inputs']
    torch.manual_seed(5)
    b = pre(data, training=True)['inputs']
    assert torch.equal(a, b)
    mixed = dict(data, inputs=[torch.zeros(3, 32, 32, dtype=torch.uint8),
                               torch.zeros(3, 28, 28, dtype=torch.uint8)])
    with pytest.raises(ValueError, match='one shape'):
        pre(mixed, training=True)


def test_channels_last_output_by_default_with_an_opt_out() -> None:
    data = _batch()
    ref = ClsDataPreprocessor(**NORM)(data)['inputs']
    for pre in (BatchClsDataPreprocessor(**NORM),
                BatchClsDataPreprocessor(channels_last=True, **NORM)):
        x = pre(data)['inputs']
        assert x.is_contiguous(memory_format=torch.channels_last)
        assert not x.is_contiguous()
        assert torch.equal(x, ref)
    x = BatchClsDataPreprocessor(channels_last=False, **NORM)(data)['inputs']
    assert x.is_contiguous()
    assert torch.equal(x, ref)


def test_non_blocking_and_bad_keys() -> None:
    assert BatchClsDataPreprocessor(**NORM)._non_blocking is True
    assert BatchClsDataPreprocessor(non_blocking=False,
                                    **NORM)._non_blocking is False
    with pytest.raises(ValueError, match=r"\['size'\]"):
        BatchClsDataPreprocessor(crop_flip=dict(size=32), **NORM)
