# Mixing (c): the single-stage (joint) form an MMRazor user writes: a plain
# SingleTeacherDistill + ConfigurableDistiller, with fitnets_mm's
# HintRegressor as connector and HintLoss next to the KD loss. This is the
# like-for-like comparison with MMRazor's own joint FitNets (which the paper
# reports fails for deep thin students); it uses no FitNets loop.
_base_ = ['./fitnets_resnet34-resnet50-thin_1xb128_cifar10.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=None,  # the student's own
    architecture={{_base_.model.architecture}},
    teacher={{_base_.model.teacher}},
    teacher_ckpt={{_base_.teacher_ckpt}},
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            guided=dict(type='ModuleOutputs', source='backbone.layer2'),
            logits={{_base_.model.distiller.student_recorders.logits}}),
        teacher_recorders=dict(
            hint=dict(type='ModuleOutputs', source='backbone.layer2'),
            logits={{_base_.model.distiller.teacher_recorders.logits}}),
        connectors=dict(
            regressor=dict(
                type='HintRegressor',
                in_channels=256,
                out_channels=128,
                in_size=16,  # 16 x 16 maps on both sides
                kernel_size=3)),
        distill_losses=dict(
            # 1e-3 x the paper's sum scale: at lr 0.1 the unscaled L_HT
            # diverged within 5 steps on this pair (see the schedule base).
            loss_hint=dict(type='HintLoss', loss_weight=1e-3),
            loss_kd={{_base_.model.distiller.distill_losses.loss_kd}}),
        loss_forward_mappings=dict(
            loss_hint=dict(
                s_feature=dict(
                    from_student=True, recorder='guided',
                    connector='regressor'),
                t_feature=dict(from_student=False, recorder='hint')),
            loss_kd={{_base_.model.distiller.loss_forward_mappings.loss_kd}})))

train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=200, val_interval=1)
val_cfg = dict(_delete_=True)
param_scheduler = dict(
    _delete_=True,
    type='MultiStepLR',
    by_epoch=True,
    milestones=[100, 150],
    gamma=0.1)
custom_hooks = [
    dict(
        type='mmrazor.LossWeightScheduleHook',
        loss_names='loss_kd',
        start=4.0,
        end=1.0),
]
