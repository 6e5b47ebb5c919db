"""Fetch whole batches of in-memory images with a few array operations.

A dataloader worker normally builds a batch image by image: MMEngine's
``BaseDataset.__getitem__`` unpickles each sample's dict, runs the pipeline
(for the batch-augmented CIFAR recipe only ``PackInputs``), and the collate
function stacks the results. For datasets that hold their images as arrays
(MMPretrain's CIFAR-10/100 and MNIST), :class:`ArrayBatchDataset` does the
same for a whole batch at once through PyTorch's batched-fetch protocol
(``Dataset.__getitems__``): one indexing of a stacked uint8 array (straight
into shared memory in a worker) and a label column. With
``collate_fn=dict(type='packed_collate')`` the worker ships that array and
the columns as they are, and the main process receives the batch that
``default_collate`` gives; any other collate gets the samples one by one.
Its samples equal those of the wrapped dataset, field by field.
"""
import copy
import math
from typing import Any, Dict, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS
from mmpretrain.structures import DataSample
from torch.utils.data import get_worker_info

from .packed_collate import SampleBatch

__all__ = ['ArrayBatchDataset']


@DATASETS.register_module()
class ArrayBatchDataset:
    """Wrap a dataset of in-memory images whose pipeline only packs them.

    Note:
        Augmentations belong to the data preprocessor then (e.g.
        ``BatchClsDataPreprocessor(crop_flip=...)``): the wrapped dataset's
        pipeline must be exactly ``[dict(type='PackInputs')]``.

    Args:
        dataset (dict | BaseDataset): The dataset, e.g.
            ``dict(type='CIFAR10', data_root=..., split='train',
            pipeline=[dict(type='PackInputs')])``. Each data info must hold
            an ``img`` array (H, W) or (H, W, C) of one shape and an int
            ``gt_label``.
        lazy_init (bool): Whether to defer loading until first use.
            Defaults to False.
    """

    def __init__(self, dataset: Union[dict, BaseDataset],
                 lazy_init: bool = False) -> None:
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        transforms = getattr(getattr(dataset, 'pipeline', None),
                             'transforms', None)
        names = [type(t).__name__ for t in transforms or []]
        if names != ['PackInputs'] or transforms[0].input_key != 'img':
            raise ValueError(
                'ArrayBatchDataset needs a dataset whose pipeline is only '
                f"[dict(type='PackInputs')], but got {names}; move the "
                'augmentations to the data preprocessor (e.g. '
                'BatchClsDataPreprocessor(crop_flip=...)).')
        self.dataset = dataset
        self._meta_keys = tuple(transforms[0].meta_keys)
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        """Load the wrapped dataset and stack its images (N, C, H, W)."""
        if self._fully_initialized:
            return
        self.dataset.full_init()
        infos = [self.dataset.get_data_info(i)
                 for i in range(len(self.dataset))]
        for i, info in enumerate(infos[:1]):
            if not isinstance(info.get('img'), np.ndarray) or \
                    'gt_label' not in info:
                raise TypeError(
                    'ArrayBatchDataset needs data infos with an `img` array '
                    f'and a `gt_label`, but sample {i} has the keys '
                    f'{sorted(info)}.')
        images = np.stack([info['img'] for info in infos])
        if images.ndim == 3:  # (N, H, W): one channel
            images = images[:, None]
        else:  # (N, H, W, C) -> (N, C, H, W), as PackInputs does
            images = images.transpose(0, 3, 1, 2)
        self.images = torch.from_numpy(np.ascontiguousarray(images))
        self.labels = torch.tensor([int(info['gt_label']) for info in infos])
        extra = sorted(k for k in infos[0]
                       if k in self._meta_keys and k != 'sample_idx')
        self.metas = {k: [info[k] for info in infos] for k in extra}
        self._fully_initialized = True

    def __len__(self) -> int:
        self.full_init()
        return len(self.images)

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        return self.__getitems__([idx])[0]

    def __getitems__(self, indices: Sequence[int]) -> SampleBatch:
        """The packed samples of ``indices``, as
        ``[dataset[i] for i in indices]`` gives them.

        Returns:
            SampleBatch: A sequence of those samples that also holds the
            stacked images and the label and metainfo columns, which
            :func:`packed_collate` ships without building the samples.
        """
        self.full_init()
        index = torch.as_tensor(list(indices), dtype=torch.long)
        n = len(self.images)
        index = torch.where(index < 0, index + n, index)
        shape = (len(index), ) + tuple(self.images.shape[1:])
        if get_worker_info() is not None:
            # gather straight into shared memory, which the batch is sent
            # through anyway (as torch's own default_collate does)
            storage = self.images._typed_storage()._new_shared(
                math.prod(shape), device=self.images.device)
            images = self.images.new(storage).resize_(shape)
            torch.index_select(self.images, 0, index, out=images)
        else:
            images = self.images.index_select(0, index)
        rows = index.tolist()
        labels = self.labels.numpy()[index.numpy()][:, None]
        metainfo = [dict(sample_idx=i, **{k: v[i]
                                          for k, v in self.metas.items()})
                    for i in rows]
        return SampleBatch(images, DataSample, dict(gt_label=labels),
                           metainfo)
