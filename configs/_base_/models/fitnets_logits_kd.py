# The FitNets algorithm with the paper's stage-2 loss on classifier logits:
#   L_KD = H(y, P_S) + lambda * H(P_T^tau, P_S^tau),  tau = 3
# H(y, P_S) is the student's own head loss (`student.loss`);
# MMRazor's KDSoftCELoss with mult_tem_square=False is exactly
# H(P_T^tau, P_S^tau), and its `loss_weight` is lambda (annealed by the
# LossWeightScheduleHook of the schedule).
# Leaf configs set `architecture`, `teacher`, `teacher_ckpt`, `hints` and
# `input_shape`.
model = dict(
    _scope_='mmrazor',
    type='FitNetsDistill',
    # None: use the student's own data preprocessor (the Runner would
    # otherwise inject the dataset's top-level one into this mmrazor-scoped
    # dict).
    data_preprocessor=None,
    hints=[],
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
