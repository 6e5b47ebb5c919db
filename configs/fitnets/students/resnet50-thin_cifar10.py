# The thin student of configs/fitnet_cifar10.py alone, as a plain MMPretrain
# config: a CIFAR ResNet-50 at half width (5.9M parameters). Use it with a
# student exported from a FitNets checkpoint, or to train the student
# without a teacher (the baseline of the FitNets table):
#
#   python tools/model_converters/fitnets_to_student.py \
#       work_dirs/fitnet_cifar10/epoch_240.pth resnet50-thin_cifar10.pth
#   python tools/test.py configs/fitnets/students/resnet50-thin_cifar10.py \
#       resnet50-thin_cifar10.pth
#
# It needs nothing from fitnets_mm, so MMPretrain's own tools and inference
# API (`get_model(CONFIG, pretrained=PTH)`, `ImageClassificationInferencer`)
# load it too.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=50,
        stem_channels=32,
        base_channels=32,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=1024,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
