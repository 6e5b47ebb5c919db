# FitNet 4 of the paper (Table 5: ~2.5M parameters, ~382M multiplications,
# 19 layers) trained two-stage from the maxout teacher. Hint: the
# teacher's 2nd conv layer (backbone.layers.1, 192 x 7 x 7); guided: the
# last layer of the student's middle stage (backbone.layers.10, 8 x 8), as in the
# authors' code. 8 > 7, so the regressor is the paper's conv with kernel
# N_g - N_h + 1 = 2; the hint layer is maxout (unbounded, piecewise
# linear), so the regressor adds no further non-linearity.
#
# Train the teacher first (maxout-teacher_1xb128_cifar10.py), then:
#   python tools/train.py configs/fitnets/paper/fitnet4_maxout-teacher_1xb128_cifar10.py
# Differences from the paper: standard per-channel normalisation and
# crop/flip augmentation instead of GCN + ZCA whitening; SGD instead of
# the authors' pylearn2 schedules.
_base_ = [
    '../../_base_/models/maxout_cifar10.py',
    '../../_base_/models/fitnets_logits_kd.py',
    '../../_base_/schedules/fitnets_two_stage_sgd.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    input_shape=(3, 32, 32),
    architecture={{_base_.fitnet4_cifar10}},
    teacher={{_base_.maxout_teacher_cifar10}},
    teacher_ckpt='work_dirs/maxout-teacher_1xb128_cifar10/epoch_200.pth',
    hints=[
        dict(
            student='backbone.layers.10',
            teacher='backbone.layers.1',
            regressor=dict(act_cfg=None),
            loss=dict(type='HintLoss')),
    ])

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
