"""Data preprocessors: per-batch augmentation and memory-format options."""
from .batch_cls_data_preprocessor import BatchClsDataPreprocessor
from .batch_crop_flip import batch_crop_flip

__all__ = ['BatchClsDataPreprocessor', 'batch_crop_flip']
