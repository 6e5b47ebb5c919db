# FitNets' Algorithm 1 in one run: stage 1 (hints) then stage 2 (KD).
# Change the stage lengths with
#   --cfg-options train_cfg.hint_epochs=N train_cfg.kd_epochs=M
# and everything that depends on them follows: total length, the
# stage-relative learning-rate schedules below (`stage='hint'|'kd'`), the
# lambda schedule, checkpoint and validation intervals.
train_cfg = dict(
    type='mmrazor.FitNetsTrainLoop',
    hint_epochs=40,
    kd_epochs=200,
    val_interval=1)
val_cfg = dict(type='mmrazor.TeacherOnceValLoop')
test_cfg = dict()

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))

# Stage 1 runs at 0.01 x the base rate: the paper's L_HT sums over every
# element of the hint map (32768 per image for a 128 x 16 x 16 hint), and at
# lr 0.1 it diverged within 5 SGD steps on the CIFAR-10 pair (NaN), while
# lr 1e-3 decreased steadily. Stage 2 follows the standard CIFAR ResNet
# recipe (x0.1 at 50 % and 75 % of the KD stage).
param_scheduler = [
    dict(type='ConstantLR', factor=0.01, by_epoch=True, stage='hint'),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        milestones=[100, 150],
        gamma=0.1,
        stage='kd'),
]

# lambda of L_KD = H(y, P_S) + lambda * H(P_T^tau, P_S^tau), decayed
# linearly from 4 to 1 over the KD stage (the paper's schedule).
# The guards and HintStageHook (hint_stage_last.pth) are default_hooks
# (../default_runtime.py), so a leaf that restates this list keeps them.
custom_hooks = [
    dict(
        type='mmrazor.LossWeightScheduleHook',
        loss_names='loss_kd',
        start=4.0,
        end=1.0),
]

# Learning rates are for a total batch of 128 (e.g. 1 GPU x 128 or
# 8 GPUs x 16); --auto-scale-lr rescales them for other totals.
auto_scale_lr = dict(base_batch_size=128)
