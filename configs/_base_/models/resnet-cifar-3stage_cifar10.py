# The CIFAR-10 ResNets of the FSP paper's setting (Yim et al., CVPR 2017,
# teacher ResNet-26 and student ResNet-8: three stages of 16, 32 and 64
# channels), built from MMPretrain's ResNet_CIFAR with `num_stages=3`.
# ResNet_CIFAR only has the block counts of depths 18/34/50/101/152, so:
#   resnet28_cifar: depth 34, 3-4-6 basic blocks, 28 weighted layers,
#                   0.51M parameters (the paper's teacher has 4-4-4, 26);
#   resnet14_cifar: depth 18, 2-2-2 basic blocks, 14 weighted layers,
#                   0.18M parameters (the paper's student has 1-1-1, 8).
# Leaf configs use them as `model = {{_base_.resnet28_cifar}}` or as the
# teacher and student of a distiller.
_base_ = ['../datasets/cifar10_bs128.py']

resnet28_cifar = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='ResNet_CIFAR',
        depth=34,
        num_stages=3,
        strides=(1, 2, 2),
        dilations=(1, 1, 1),
        stem_channels=16,
        base_channels=16,
        out_indices=(2, ),
        style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
resnet14_cifar = dict(
    resnet28_cifar, backbone=dict(resnet28_cifar['backbone'], depth=18))
