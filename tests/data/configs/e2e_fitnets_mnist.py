# End-to-end test, step 2: FitNets from the step-1 teacher to a thinner,
# deeper student (ResNet-34, 6 base channels): 1 hint epoch on the middle
# stages (layer2), then 2 KD epochs, in one run of tools/train.py.
_base_ = ['./e2e_teacher_mnist.py']

model = dict(
    _delete_=True,
    _scope_='mmrazor',
    type='FitNetsDistill',
    data_preprocessor=None,
    input_shape=(1, 28, 28),
    architecture=dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        data_preprocessor={{_base_.data_preprocessor}},
        backbone=dict(
            type='ResNet_CIFAR',
            depth=34,
            in_channels=1,
            stem_channels=6,
            base_channels=6,
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=48,
            loss=dict(type='CrossEntropyLoss'))),
    teacher={{_base_.model}},
    teacher_ckpt='TEACHER_CKPT',  # set with --cfg-options
    hints=[dict(student='backbone.layer2', teacher='backbone.layer2')],
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kd=dict(
                type='KDSoftCELoss',
                tau=3,
                mult_tem_square=False,
                loss_weight=4.0)),
        loss_forward_mappings=dict(
            loss_kd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits')))))

train_cfg = dict(
    _delete_=True,
    type='mmrazor.FitNetsTrainLoop',
    hint_epochs=1,
    kd_epochs=2,
    val_interval=1)
val_cfg = dict(type='mmrazor.TeacherOnceValLoop')
param_scheduler = [
    dict(type='ConstantLR', factor=0.1, by_epoch=True, stage='hint'),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        convert_to_iter_based=True,
        stage='kd'),
]
custom_hooks = [dict(type='mmrazor.LossWeightScheduleHook')]
find_unused_parameters = True
