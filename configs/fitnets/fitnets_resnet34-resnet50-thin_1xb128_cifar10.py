# FitNets on CIFAR-10: a thin deep student (ResNet-50 at half width, 5.9M
# parameters, 0.28x the teacher) learns from the MMPretrain zoo ResNet-34
# (21.3M parameters, 95.34 % top-1): stage 1 hints from the teacher's
# middle stage (layer2, 128 x 16 x 16) to the student's middle stage
# (layer2, 256 x 16 x 16) through a 3x3 conv regressor + ReLU, then stage 2
# KD with tau = 3 and lambda 4 -> 1.
#
#   python tools/train.py configs/fitnet_cifar10.py
#   bash tools/dist_train.sh configs/fitnet_cifar10.py 8 \
#       --cfg-options train_dataloader.batch_size=16   # same total batch
_base_ = [
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/models/fitnets_logits_kd.py',
    '../_base_/schedules/fitnets_two_stage_sgd.py',
    '../_base_/default_runtime.py',
]

teacher_ckpt = ('https://download.openmmlab.com/mmclassification/v0/resnet/'
                'resnet34_b16x8_cifar10_20210528-a8aa36a6.pth')

model = dict(
    input_shape=(3, 32, 32),
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor={{_base_.data_preprocessor}},
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
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet34_8xb16_cifar10.py',
        pretrained=False),
    teacher_ckpt=teacher_ckpt,
    hints=[
        dict(
            student='backbone.layer2',  # guided layer g
            teacher='backbone.layer2',  # hint layer h
            regressor=dict(kernel_size=3, act_cfg=dict(type='ReLU')),
            loss=dict(type='HintLoss', loss_weight=1.0)),
    ])
