# FSP (Yim et al., CVPR 2017) on the FitNets paper's MNIST pair: the 30K
# thin deep maxout student learns the FSP matrices of the 361K maxout
# teacher in stage 1, then trains on the labels alone in stage 2.
#
# One FSP matrix per section boundary after the first: a section's input
# and output, i.e. the outputs of consecutive sections (teacher: one conv
# layer per section; student: two). Sizes agree across the networks (10,
# 4 and 3 px) but not within a pair, so the larger map is average-pooled
# to the smaller (`pool='avg'`, as RepDistiller); the student has 16/12
# channels where the teacher has 48/24, so a linear 1x1 connector maps each
# student map to the teacher's channels. The second pair ends at the last
# conv layer: only the classifier is skipped in stage 1.
#
# Train the teacher first, then point `teacher_ckpt` at it:
#   python tools/train.py configs/fitnets/paper/maxout-teacher_1xb128_mnist.py
#   python tools/train.py configs/fitnets/paper/fsp_maxout-teacher-student_1xb128_mnist.py \
#       --cfg-options model.teacher_ckpt=work_dirs/maxout-teacher_1xb128_mnist/epoch_10.pth
_base_ = ['./fitnets_maxout-teacher-student_1xb128_mnist.py']

model = dict(
    type='FSPDistill',
    hints=[],
    fsp_pairs=[
        dict(
            student=('backbone.layers.1', 'backbone.layers.3'),
            teacher=('backbone.layers.0', 'backbone.layers.1'),
            connector=dict(),
            loss=dict(type='FSPLoss', pool='avg')),
        dict(
            student=('backbone.layers.3', 'backbone.layers.5'),
            teacher=('backbone.layers.1', 'backbone.layers.2'),
            connector=dict(),
            loss=dict(type='FSPLoss', pool='avg')),
    ],
    # Stage 2 of the FSP paper: the student's cross-entropy alone.
    distiller=dict(_delete_=True, type='ConfigurableDistiller'))

# No KD loss, hence no lambda schedule (the guards and HintStageHook are
# default_hooks).
custom_hooks = []
