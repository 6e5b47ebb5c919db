"""Datasets: batched fetching of in-memory images."""
from .array_batch_dataset import ArrayBatchDataset

__all__ = ['ArrayBatchDataset']
