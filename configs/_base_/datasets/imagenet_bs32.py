# ImageNet as MMPretrain's `imagenet_bs32.py` (decode, RandomResizedCrop 224,
# flip), with the loaders of cifar10_bs128.py: batches stacked in the workers
# (`default_collate`), workers kept between epochs, pinned memory. Decoding
# JPEGs is the cost here: benchmarks/data_pipeline.py measures images/s per
# worker and the workers a GPU needs.
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs32.py']

# NHWC convolutions (channels_last, as in cifar10_bs128.py); off:
# model.architecture.data_preprocessor.channels_last=False
data_preprocessor = dict(
    type='BatchClsDataPreprocessor', channels_last=True)

train_dataloader = dict(
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='default_collate'))
val_dataloader = dict(
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='default_collate'))
test_dataloader = val_dataloader
