# FitNets on MNIST with the paper's networks (Table 4): the 361K-parameter
# maxout teacher guides the 30K-parameter thin deep student. Hint: teacher
# layer 2 (48 x 4 x 4); guided: student layer 4 (16 x 4 x 4), the
# authors' choice; equal sizes, so the paper's rule N_g - k + 1 = N_h gives
# a 1x1 regressor. The hint layer is maxout (unbounded, piecewise linear),
# so the regressor has no further non-linearity.
#
# Train the teacher first, then point `teacher_ckpt` at it:
#   python tools/train.py configs/fitnets/paper/maxout-teacher_1xb128_mnist.py
#   python tools/train.py configs/fitnets/paper/fitnets_maxout-teacher-student_1xb128_mnist.py \
#       --cfg-options model.teacher_ckpt=work_dirs/maxout-teacher_1xb128_mnist/epoch_10.pth
_base_ = [
    '../../_base_/datasets/mnist_bs128.py',
    '../../_base_/models/fitnets_logits_kd.py',
    '../../_base_/schedules/fitnets_two_stage_sgd.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    input_shape=(1, 28, 28),
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor={{_base_.data_preprocessor}},
        backbone=dict(type='FitNetMNIST', arch='student'),
        neck=None,
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=108,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    teacher=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor={{_base_.data_preprocessor}},
        backbone=dict(type='FitNetMNIST', arch='teacher'),
        neck=None,
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=216,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    teacher_ckpt='work_dirs/maxout-teacher_1xb128_mnist/epoch_10.pth',
    hints=[
        dict(
            student='backbone.layers.3',
            teacher='backbone.layers.1',
            regressor=dict(kernel_size=1, act_cfg=None),
            loss=dict(type='HintLoss')),
    ])

# Adam at a constant 1e-3 in both stages, the setting measured stable for
# these normalisation-free maxout nets (benchmarks/README.md).
train_cfg = dict(hint_epochs=2, kd_epochs=10, val_interval=1)
optim_wrapper = dict(_delete_=True, optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = None
