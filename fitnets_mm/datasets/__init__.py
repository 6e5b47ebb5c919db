"""Datasets: Fashion-MNIST from its installed .gz files, batched fetching of in-memory images, and a collate whose
batches are cheap to send from a dataloader worker."""
from .array_batch_dataset import ArrayBatchDataset
from .fashion_mnist_gz import FashionMNISTGz, IdxFileError, read_idx_gz
from .packed_collate import PackedDataSamples, SampleBatch, packed_collate

__all__ = [
    'ArrayBatchDataset', 'FashionMNISTGz', 'IdxFileError', 'PackedDataSamples',
    'SampleBatch', 'packed_collate', 'read_idx_gz'
]
