# FitNet 2 of the paper (Table 5: ~862K parameters, ~108M multiplications,
# 11 layers), trained two-stage from the maxout teacher exactly as FitNet 4
# (see that config); only the student and its guided layer differ:
# backbone.layers.5, the last layer of the middle stage (8 x 8).
#   python tools/train.py configs/fitnets/paper/fitnet2_maxout-teacher_1xb128_cifar10.py
_base_ = ['./fitnet4_maxout-teacher_1xb128_cifar10.py']

model = dict(
    architecture=dict(backbone=dict(arch='fitnet2')),
    hints=[
        dict(
            student='backbone.layers.5',
            teacher='backbone.layers.1',
            regressor=dict(act_cfg=None),
            loss=dict(type='HintLoss')),
    ])
