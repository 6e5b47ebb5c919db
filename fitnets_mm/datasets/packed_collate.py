"""Collate a batch so that a dataloader worker ships it as a few arrays.

A worker sends its batch to the main process by pickling it. MMEngine's
``default_collate`` stacks the images into one tensor but leaves the
``data_samples`` a list of :class:`DataSample`, one per image, each holding
its own ``gt_label`` tensor; PyTorch moves every one of those tensors through
its own shared-memory segment (a file descriptor sent over a socket), which
costs more than fetching the image. :func:`packed_collate` returns the same
batch, but inside a worker its ``data_samples`` pickle as columns: each
tensor field of all samples as one NumPy array, the metainfo as a list of
dicts. Unpickling in the main process rebuilds the list of
:class:`DataSample` that ``default_collate`` gives, field by field.

It also takes the pre-batched form of :class:`ArrayBatchDataset`
(:class:`SampleBatch`: one uint8 tensor and label/metainfo columns) without
building per-sample records in the worker at all.
"""
from collections.abc import Sequence as SequenceABC
from typing import Any, Dict, List, Sequence

import numpy as np
import torch
from mmengine.dataset import default_collate
from mmengine.registry import FUNCTIONS
from mmengine.structures import BaseDataElement
from torch.utils.data import get_worker_info

__all__ = ['packed_collate', 'PackedDataSamples', 'SampleBatch']


class SampleBatch(SequenceABC):
    """A batch fetched at once: stacked images and per-sample columns.

    It is a sequence of the packed samples (``dict(inputs=...,
    data_samples=...)``), built on first access, so that any collate
    function takes it; :func:`packed_collate` reads the columns instead.

    Args:
        inputs (torch.Tensor): The images, stacked ``(N, ...)``.
        sample_type (type): The data sample class, e.g. ``DataSample``.
        fields (dict): Data fields, each an array ``(N, ...)`` whose row i
            is sample i's field (e.g. ``gt_label`` of shape ``(N, 1)``).
        metainfo (list[dict]): The metainfo of each sample.
    """

    def __init__(self, inputs: torch.Tensor, sample_type: type,
                 fields: Dict[str, np.ndarray],
                 metainfo: List[dict]) -> None:
        if any(len(v) != len(inputs) for v in fields.values()) or \
                len(metainfo) != len(inputs):
            raise ValueError(
                f'SampleBatch needs one row per image ({len(inputs)}), but '
                f'got {len(metainfo)} metainfo dicts and fields of lengths '
                f'{ {k: len(v) for k, v in fields.items()} }.')
        self.inputs = inputs
        self.samples = PackedDataSamples(sample_type, fields, metainfo)
        self._items = None

    def __len__(self) -> int:
        return len(self.inputs)

    def __getitem__(self, i):
        if self._items is None:
            self._items = [
                dict(inputs=x, data_samples=s)
                for x, s in zip(self.inputs.unbind(0), self.samples.unpack())
            ]
        return self._items[i]


class PackedDataSamples:
    """Data samples kept as columns; they pickle as a few arrays and
    unpickle as a plain list of data samples.

    Args:
        sample_type (type): The data sample class.
        fields (dict): Data fields as arrays ``(N, ...)``.
        metainfo (list[dict]): The metainfo of each sample.
    """

    def __init__(self, sample_type: type, fields: Dict[str, np.ndarray],
                 metainfo: List[dict]) -> None:
        self.sample_type = sample_type
        self.fields = fields
        self.metainfo = metainfo

    @classmethod
    def pack(cls, samples: Sequence[BaseDataElement]) -> 'PackedDataSamples':
        """Columns of ``samples``.

        Raises:
            TypeError: If the samples are of different types, or a data
                field is not a tensor of one shape and dtype in all samples
                (``default_collate`` should be used then).
        """
        kinds = {type(s) for s in samples}
        keys = {tuple(s.keys()) for s in samples}
        if len(kinds) != 1 or len(keys) != 1:
            raise TypeError(
                'packed_collate needs data samples of one type with the same '
                f'fields, but got the types {sorted(k.__name__ for k in kinds)}'
                f' and the fields {sorted(keys)}.')
        fields = {}
        for key in next(iter(keys)):
            values = [s.get(key) for s in samples]
            if not all(isinstance(v, torch.Tensor) for v in values) or \
                    len({(v.shape, v.dtype) for v in values}) != 1:
                raise TypeError(
                    f'packed_collate needs the field `{key}` to be a tensor '
                    'of one shape and dtype in all samples, but got '
                    f'{sorted({_describe(v) for v in values})}; use '
                    "collate_fn=dict(type='default_collate') instead.")
            fields[key] = torch.stack(values).numpy()
        return cls(kinds.pop(), fields, [s.metainfo for s in samples])

    def unpack(self) -> List[BaseDataElement]:
        """The data samples, each field a view of one tensor."""
        columns = {k: torch.from_numpy(v).unbind(0)
                   for k, v in self.fields.items()}
        out = []
        for i, meta in enumerate(self.metainfo):
            sample = self.sample_type(metainfo=meta)
            for key, column in columns.items():
                sample.set_field(column[i], key, dtype=torch.Tensor)
            out.append(sample)
        return out

    def __reduce__(self):
        return _unpack, (self.sample_type, self.fields, self.metainfo)


def _unpack(sample_type: type, fields: Dict[str, np.ndarray],
            metainfo: List[dict]) -> List[BaseDataElement]:
    return PackedDataSamples(sample_type, fields, metainfo).unpack()


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f'Tensor{tuple(value.shape)} {value.dtype}'
    return type(value).__name__


@FUNCTIONS.register_module()
def packed_collate(data_batch: Sequence[dict]) -> Dict[str, Any]:
    """``default_collate`` for packed samples, cheap to send from a worker.

    Note:
        In the main process (``num_workers=0``) it returns exactly what
        ``default_collate`` returns: ``inputs`` stacked, ``data_samples`` a
        list. In a worker, ``data_samples`` is a :class:`PackedDataSamples`
        that turns into that list when the main process receives it.

    Args:
        data_batch (Sequence[dict]): Samples ``dict(inputs=Tensor,
            data_samples=DataSample)`` of one shape, or a
            :class:`SampleBatch`.

    Returns:
        dict: ``inputs`` (one tensor ``(N, ...)``) and ``data_samples``.
    """
    if isinstance(data_batch, SampleBatch):
        inputs, samples = data_batch.inputs, data_batch.samples
    else:
        if not data_batch or not isinstance(data_batch[0], dict) or \
                set(data_batch[0]) != {'inputs', 'data_samples'}:
            raise TypeError(
                'packed_collate needs samples dict(inputs=..., '
                'data_samples=...) as PackInputs gives them, but got '
                f'{_describe(data_batch[0]) if data_batch else "none"}'
                + (f' with the keys {sorted(data_batch[0])}' if data_batch
                   and isinstance(data_batch[0], dict) else '') + '.')
        inputs = default_collate([d['inputs'] for d in data_batch])
        samples = PackedDataSamples.pack(
            [d['data_samples'] for d in data_batch])
    if get_worker_info() is None:  # main process: nothing to send
        return dict(inputs=inputs, data_samples=samples.unpack())
    return dict(inputs=inputs, data_samples=samples)
