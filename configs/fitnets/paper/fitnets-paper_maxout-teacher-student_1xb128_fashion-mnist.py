# FitNets on Fashion-MNIST with the paper's MNIST pair, in the authors'
# regime (fitnets-paper_maxout-teacher-student_1xb128_mnist.py): the thin
# deep student learns the teacher's layer-2 hint in stage 1, then KD.
# Training images 0-49,999; the hint loss is validated on 50,000-59,999
# after every hint epoch, and stage 1 stops when it has not improved for
# `patience` epochs (at most `hint_epochs`); its best weights are reloaded.
#   python tools/train.py configs/fitnets/paper/maxout-teacher_1xb128_fashion-mnist.py
#   python tools/train.py configs/fitnets/paper/fitnets-paper_maxout-teacher-student_1xb128_fashion-mnist.py \
#       --cfg-options model.teacher_ckpt=work_dirs/maxout-teacher_1xb128_fashion-mnist/epoch_10.pth
_base_ = ['./fitnets-paper_maxout-teacher-student_1xb128_mnist.py']

_data = dict(type='FashionMNISTGz',
             data_root='/usr/share/datasets/fashion-mnist')
_preprocessor = dict(mean=[72.94], std=[90.02])
train_dataloader = dict(dataset=_data)
val_dataloader = dict(dataset=_data)
test_dataloader = dict(dataset=_data)
model = dict(
    architecture=dict(data_preprocessor=_preprocessor),
    teacher=dict(data_preprocessor=_preprocessor),
    teacher_ckpt='work_dirs/maxout-teacher_1xb128_fashion-mnist/epoch_10.pth')

hint_val_dataloader = dict(
    batch_size=500,
    num_workers=2,
    dataset=dict(
        indices=range(50000, 60000),
        pipeline=[dict(type='PackInputs')],
        test_mode=False,
        **_data),
    sampler=dict(type='DefaultSampler', shuffle=False))
# The MNIST config's hooks, with the hint validated on Fashion-MNIST and
# stopped early (tests/test_configs/test_fashion_mnist_configs.py checks
# that nothing else differs).
custom_hooks = [
    dict(
        type='mmrazor.LossWeightScheduleHook',
        loss_names='loss_kd',
        start=4.0,
        end=0.0,
        begin_epoch=5,
        end_epoch=150,
        stage_relative=True,
        by_epoch=True),
    dict(
        type='mmrazor.MaxNormHook',
        rules=[
            dict(modules='*backbone.layers.[01].conv', max_norm=0.9),
            dict(modules='*backbone.layers.*.conv', max_norm=1.9365),
            dict(modules='*head.fc', max_norm=1.9365),
            dict(modules='regressors.*', max_norm=0.9, required=False),
        ]),
    dict(
        type='mmrazor.HintValidationHook',
        keep_best=True,
        patience=5,
        dataloader=hint_val_dataloader),
]
