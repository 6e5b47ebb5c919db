# FSP (Yim et al., CVPR 2017) on the FitNets CIFAR-10 pair: the thin
# ResNet-50 student (5.9M parameters) learns the "flow of solution
# procedure" of the zoo ResNet-34 (95.34 % top-1) in stage 1, then trains
# on the labels alone in stage 2, as the FSP paper.
#
# Stage 1 matches one FSP matrix per residual stage (section), between the
# output of the stage's first block and the stage's output: two maps of
# one size (32, 16, 8 and 4 px), so no pooling; equal weights (see
# below). The student's stages are twice as wide as the teacher's
# (bottleneck outputs 128-256-512-1024 channels against 64-128-256-512),
# and no pair of layers of equal size has equal channel counts in both
# networks, so a linear 1x1 connector maps each student map to the
# teacher's channels (trained in stage 1 only and not part of the exported
# student, as FitNets' regressor). Only the classifier head is skipped by
# the truncated stage-1 forwards.
#
#   python tools/train.py configs/fitnets/fsp_resnet34-resnet50-thin_1xb128_cifar10.py
_base_ = ['./fitnets_resnet34-resnet50-thin_1xb128_cifar10.py']

model = dict(
    type='FSPDistill',
    hints=[],
    fsp_pairs=[
        dict(
            student=('backbone.layer1.0', 'backbone.layer1'),
            teacher=('backbone.layer1.0', 'backbone.layer1'),
            connector=dict(),
            loss=dict(type='FSPLoss', reduction='mean', loss_weight=10.0)),
        dict(
            student=('backbone.layer2.0', 'backbone.layer2'),
            teacher=('backbone.layer2.0', 'backbone.layer2'),
            connector=dict(),
            loss=dict(type='FSPLoss', reduction='mean', loss_weight=10.0)),
        dict(
            student=('backbone.layer3.0', 'backbone.layer3'),
            teacher=('backbone.layer3.0', 'backbone.layer3'),
            connector=dict(),
            loss=dict(type='FSPLoss', reduction='mean', loss_weight=10.0)),
        dict(
            student=('backbone.layer4.0', 'backbone.layer4'),
            teacher=('backbone.layer4.0', 'backbone.layer4'),
            connector=dict(),
            loss=dict(type='FSPLoss', reduction='mean', loss_weight=10.0)),
    ],
    # Stage 2 of the FSP paper: the student's cross-entropy alone; the
    # teacher is not run. Without this line stage 2 is FitNets' KD.
    distiller=dict(_delete_=True, type='ConfigurableDistiller'))

# No KD loss, hence no lambda schedule (the guards and HintStageHook are
# default_hooks).
custom_hooks = []

# The paper's sum over the m x n entries of G does not fit these widths:
# layer4's G has 512 x 512 entries, and with it stage 1 went from 2.3e4 to
# 3.2e12 in one SGD step at lr 1e-3 and to NaN in three (a check with a
# random-init teacher on random 32 x 32 images, not a CIFAR run). With
# `reduction='mean'` (mean over entries, as RepDistiller) every pair has the
# same scale, and at lr 1e-2 the loss fell steadily (0.23 -> 0.09 in 11
# steps); lambda_i = 10 at the schedule's stage-1 lr of 1e-3 takes the same
# steps.
