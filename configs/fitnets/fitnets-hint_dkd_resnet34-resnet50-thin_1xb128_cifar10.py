# Mixing (a): FitNets' hint stage, then MMRazor's Decoupled KD (DKD) as the
# stage-2 loss instead of the paper's soft-target cross-entropy.
_base_ = ['./fitnets_resnet34-resnet50-thin_1xb128_cifar10.py']

model = dict(
    distiller=dict(
        _delete_=True,
        type='ConfigurableDistiller',
        student_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc'),
            gt_labels=dict(type='ModuleInputs', source='head.loss_module')),
        teacher_recorders=dict(
            logits=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_dkd=dict(
                type='DKDLoss',
                tau=4,
                alpha=1.0,
                beta=8.0,
                reduction='batchmean',
                loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_dkd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits'),
                gt_labels=dict(
                    recorder='gt_labels', from_student=True, data_idx=1)))))

# DKD has its own weights (alpha, beta): no lambda schedule (the guards
# and HintStageHook are default_hooks).
custom_hooks = []
