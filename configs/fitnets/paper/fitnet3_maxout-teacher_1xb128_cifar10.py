# FitNet 3 of the paper (Table 5: ~1.6M parameters, ~392M multiplications,
# 13 layers), trained two-stage from the maxout teacher exactly as FitNet 4
# (see that config); only the student and its guided layer differ:
# backbone.layers.7, the last layer of the middle stage (8 x 8).
#   python tools/train.py configs/fitnets/paper/fitnet3_maxout-teacher_1xb128_cifar10.py
_base_ = ['./fitnet4_maxout-teacher_1xb128_cifar10.py']

model = dict(
    architecture=dict(backbone=dict(arch='fitnet3')),
    hints=[
        dict(
            student='backbone.layers.7',
            teacher='backbone.layers.1',
            regressor=dict(act_cfg=None),
            loss=dict(type='HintLoss')),
    ])
