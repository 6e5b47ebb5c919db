# The teacher of the FSP paper's CIFAR-10 setting (see
# configs/_base_/models/resnet-cifar-3stage_cifar10.py), trained by plain
# backprop with MMPretrain's CIFAR-10 schedule (200 epochs):
#   python tools/train.py configs/fitnets/paper/resnet28-cifar_1xb128_cifar10.py
_base_ = [
    '../../_base_/models/resnet-cifar-3stage_cifar10.py',
    'mmpretrain::_base_/schedules/cifar10_bs128.py',
    '../../_base_/default_runtime.py',
]

model = {{_base_.resnet28_cifar}}
