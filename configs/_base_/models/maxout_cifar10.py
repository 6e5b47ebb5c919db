# The paper's CIFAR-10 maxout classifiers (FitNetCIFAR backbones, no neck:
# the backbone ends in the 500-unit fully-connected maxout layer):
#   maxout_teacher_cifar10: Goodfellow et al.'s maxout net, 9M parameters,
#                           725M multiplications (Table 5);
#   fitnet4_cifar10:        FitNet 4, 2.5M parameters, 382M mult.
# Leaf configs use them as `model = {{_base_.maxout_teacher_cifar10}}` or as
# the teacher and student of a distiller (another FitNet: override
# `architecture.backbone.arch`).
_base_ = ['../datasets/cifar10_bs128.py']

maxout_teacher_cifar10 = dict(
    _scope_='mmpretrain',
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(type='FitNetCIFAR', arch='teacher'),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=500,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
fitnet4_cifar10 = dict(
    maxout_teacher_cifar10, backbone=dict(type='FitNetCIFAR', arch='fitnet4'))
