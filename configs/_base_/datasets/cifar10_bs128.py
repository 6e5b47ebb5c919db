# CIFAR-10, downloaded to `data_root` by MMPretrain on first use: MMPretrain's
# cifar10_bs16 (same pipelines, normalisation and evaluator) with batches of
# 128.
#
# The loaders stack each batch in the workers (`default_collate`: one uint8
# tensor per batch instead of 128 tensors), keep their workers between
# epochs and pin memory (PyTorch pins only where there is an accelerator).
# `BatchClsDataPreprocessor` is MMPretrain's `ClsDataPreprocessor` with
# asynchronous copies and two options:
#   channels_last=True (its default)  # NHWC inputs, so the convolutions of
#       the student, the teacher and the regressor run in NHWC: a training
#       step of the ResNet pair took 0.76x (stage 2) and 0.73x (stage 1) as
#       long on the 2-core CPU (benchmarks/results/step_speed.md). MMRazor's
#       feature losses that `.view` their inputs (e.g. L2Loss) get NHWC
#       inputs made contiguous (fitnets_mm.compat.mmrazor_nhwc). Off:
#       --cfg-options model.architecture.data_preprocessor.channels_last=False
#   crop_flip=dict(padding=4, flip_prob=0.5)  # off here: the recipe's crop
#       and flip per batch on the device; see ../../fitnets/
#       fitnets_resnet34-resnet50-thin_1xb128_cifar10_batch-aug.py
_base_ = ['mmpretrain::_base_/datasets/cifar10_bs16.py']

data_root = 'data/cifar10/'
data_preprocessor = dict(
    type='BatchClsDataPreprocessor', channels_last=True)

train_dataloader = dict(
    batch_size=128,
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=128,
    persistent_workers=True,
    pin_memory=True,
    collate_fn=dict(type='default_collate'),
    dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
