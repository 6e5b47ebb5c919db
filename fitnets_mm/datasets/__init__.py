"""Datasets: batched fetching of in-memory images, and a collate whose
batches are cheap to send from a dataloader worker."""
from .array_batch_dataset import ArrayBatchDataset
from .packed_collate import PackedDataSamples, SampleBatch, packed_collate

__all__ = [
    'ArrayBatchDataset', 'PackedDataSamples', 'SampleBatch', 'packed_collate'
]
