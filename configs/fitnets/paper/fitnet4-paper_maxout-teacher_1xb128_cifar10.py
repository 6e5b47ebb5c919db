# FitNet 4 on CIFAR-10 in the authors' own regime
# (adri-romsor/FitNets yaml/cifar10_fitnet19_valid.yaml,
# scripts/fitnets_training.py):
# * weights U(-0.005, 0.005) (pylearn2's irange), the regressor's U(+-0.05);
# * RMSProp (decay 0.9) at lr 5e-3 with every conv layer's lr scaled by
#   0.05 (W_lr_scale = b_lr_scale = .05), one optimizer per stage (stage 2
#   starts fresh);
# * max-norm after every update: conv kernels 0.9, the 500-unit maxout
#   layer's columns 1.9, the softmax's 1.9365, the regressor's kernels 0.9;
# * a maxout regressor (the hint layer is maxout with 2 pieces), kernel
#   N_g - N_h + 1 = 2;
# * stage-1 validation on held-out training images with best selection;
# * lambda held at 4 for 5 KD epochs, then linear towards 1 at KD epoch 400
#   (TeacherDecayOverEpoch(start=5, saturate=400, final=1)).
# Differences (see configs/fitnets/README.md): crop/flip with standard
# normalisation instead of GCN + ZCA whitening; fixed stage lengths with
# best-of-stage-1 selection instead of early stopping.
#   python tools/train.py configs/fitnets/paper/fitnet4-paper_maxout-teacher_1xb128_cifar10.py
_base_ = ['./fitnet4_maxout-teacher_1xb128_cifar10.py']

_uniform = dict(type='Uniform', layer=['Conv2d', 'Linear'], a=-0.005,
                b=0.005, bias=0.)
model = dict(
    architecture=dict(
        backbone=dict(init_cfg=_uniform), head=dict(init_cfg=_uniform)),
    hints=[
        dict(
            student='backbone.layers.10',
            teacher='backbone.layers.1',
            regressor=dict(
                spatial='rule',
                num_pieces=2,
                act_cfg=None,
                init_cfg=dict(type='Uniform', layer='Conv2d', a=-0.05,
                              b=0.05, bias=0.)),
            loss=dict(type='HintLoss')),
    ])

train_cfg = dict(hint_epochs=100, kd_epochs=300)
param_scheduler = None
_stage = dict(
    optimizer=dict(type='RMSprop', lr=5e-3, alpha=0.9, eps=1e-5),
    # the conv layers' W_lr_scale and b_lr_scale
    paramwise_cfg=dict(custom_keys={'.conv.': dict(lr_mult=0.05)}))
optim_wrapper = dict(
    _delete_=True,
    constructor='mmrazor.StageOptimWrapperConstructor',
    hint=_stage,
    kd=_stage,
    kd_hint_lr_mult=1.0)

# The authors train on images 0-39,999 and validate on 40,000-49,999.
train_dataloader = dict(dataset=dict(indices=range(40000)))
hint_val_dataloader = dict(
    batch_size=500,
    num_workers=2,
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        split='train',
        indices=range(40000, 50000),
        pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False))
custom_hooks = [
    dict(
        type='mmrazor.LossWeightScheduleHook',
        loss_names='loss_kd',
        start=4.0,
        end=1.0,
        begin_epoch=5,
        end_epoch=400,
        stage_relative=True,
        by_epoch=True),
    dict(
        type='mmrazor.MaxNormHook',
        rules=[
            dict(modules='*backbone.layers.*.conv', max_norm=0.9),
            dict(modules='*backbone.layers.*.fc', max_norm=1.9),
            dict(modules='*head.fc', max_norm=1.9365),
            dict(modules='regressors.*', max_norm=0.9, required=False),
        ]),
    dict(
        type='mmrazor.HintValidationHook',
        keep_best=True,
        dataloader=hint_val_dataloader),
]
