# The FSP paper's CIFAR-10 setting (Yim et al., CVPR 2017, Sec. 4.1) from
# MMPretrain's ResNet_CIFAR: a 28-layer teacher and a 14-layer student of
# the same widths (16-32-64; the paper has 26 and 8 layers, see
# configs/_base_/models/resnet-cifar-3stage_cifar10.py). Stage 1: one FSP
# matrix per stage, between the output of its first block and its output
# (equal sizes and equal channel counts in both networks, so neither
# pooling nor connectors), with equal weights, as the paper. Stage 2: the
# student's cross-entropy alone.
#
#   python tools/train.py configs/fitnets/paper/resnet28-cifar_1xb128_cifar10.py
#   python tools/train.py configs/fitnets/paper/fsp_resnet28-resnet14-cifar_1xb128_cifar10.py
_base_ = [
    '../../_base_/models/resnet-cifar-3stage_cifar10.py',
    '../../_base_/schedules/fitnets_two_stage_sgd.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    _scope_='mmrazor',
    type='FSPDistill',
    data_preprocessor=None,  # the student's
    input_shape=(3, 32, 32),
    architecture={{_base_.resnet14_cifar}},
    teacher={{_base_.resnet28_cifar}},
    teacher_ckpt='work_dirs/resnet28-cifar_1xb128_cifar10/epoch_200.pth',
    fsp_pairs=[
        dict(
            student=('backbone.layer1.0', 'backbone.layer1'),
            teacher=('backbone.layer1.0', 'backbone.layer1')),
        dict(
            student=('backbone.layer2.0', 'backbone.layer2'),
            teacher=('backbone.layer2.0', 'backbone.layer2')),
        dict(
            student=('backbone.layer3.0', 'backbone.layer3'),
            teacher=('backbone.layer3.0', 'backbone.layer3')),
    ],
    # Stage 2: the task loss alone; the teacher is not run.
    distiller=dict(type='ConfigurableDistiller'))

# No KD loss, hence no lambda schedule (the guards and HintStageHook are
# default_hooks).
custom_hooks = []
