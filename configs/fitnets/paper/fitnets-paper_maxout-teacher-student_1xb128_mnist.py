# FitNets on MNIST in the authors' own regime (Table 4's FitNet;
# adri-romsor/FitNets yaml/MNIST_fitnet_valid.yaml and
# scripts/fitnets_training.py): the 30K-parameter thin deep maxout student
# learns from the maxout teacher with
# * weights U(-0.005, 0.005) (pylearn2's irange), the regressor's U(+-0.05);
# * RMSProp (decay 0.9) at lr 5e-4, one optimizer per stage: stage 2 starts
#   from a fresh optimizer, as the authors' second run does;
# * max-norm constraints after every update: 0.9 on the first two conv
#   layers' kernels, 1.9365 on the others and on the softmax columns, 0.9 on
#   the regressor;
# * a maxout regressor (the hint layer is maxout with 2 pieces);
# * the hint loss validated every hint epoch on held-out training digits and
#   the best stage-1 weights reloaded at the switch (the authors stop stage 1
#   early on that cost and reload the best model);
# * lambda held at 4 for 5 KD epochs, then linear to 0 at KD epoch 150
#   (TeacherDecayOverEpoch(start=5, saturate=150, final=0)).
# configs/fitnets/README.md lists what was chosen where the paper and the
# code are silent.
#   python tools/train.py configs/fitnets/paper/fitnets-paper_maxout-teacher-student_1xb128_mnist.py \
#       --cfg-options model.teacher_ckpt=work_dirs/maxout-teacher_1xb128_mnist/epoch_10.pth
# KD alone in the same regime: --cfg-options model.hints=[] train_cfg.hint_epochs=0
_base_ = ['./fitnets_maxout-teacher-student_1xb128_mnist.py']

_uniform = dict(type='Uniform', layer=['Conv2d', 'Linear'], a=-0.005,
                b=0.005, bias=0.)
model = dict(
    architecture=dict(
        backbone=dict(init_cfg=_uniform), head=dict(init_cfg=_uniform)),
    hints=[
        dict(
            student='backbone.layers.3',
            teacher='backbone.layers.1',
            # 4 x 4 -> 4 x 4: a 1 x 1 maxout conv with the hint's 2 pieces
            regressor=dict(
                kernel_size=1,
                num_pieces=2,
                act_cfg=None,
                init_cfg=dict(type='Uniform', layer='Conv2d', a=-0.05,
                              b=0.05, bias=0.)),
            loss=dict(type='HintLoss')),
    ])

train_cfg = dict(hint_epochs=50, kd_epochs=200)
# pylearn2's RMSProp divides by max(sqrt(mean square), 1 / max_scaling) with
# max_scaling 1e5; torch adds eps to the root instead: eps=1e-5.
_rmsprop = dict(type='RMSprop', lr=5e-4, alpha=0.9, eps=1e-5)
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.StageOptimWrapperConstructor',
    hint=dict(optimizer=_rmsprop),
    kd=dict(optimizer=_rmsprop),
    kd_hint_lr_mult=1.0)  # the authors' -lrs option, unset by default

# The authors train on digits 0-49,999 and validate on 50,000-59,999.
train_dataloader = dict(dataset=dict(indices=range(50000)))
hint_val_dataloader = dict(
    batch_size=500,
    num_workers=2,
    dataset=dict(
        type='MNIST',
        data_root={{_base_.data_root}},
        test_mode=False,
        indices=range(50000, 60000),
        pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=False))
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
        dataloader=hint_val_dataloader),
]
