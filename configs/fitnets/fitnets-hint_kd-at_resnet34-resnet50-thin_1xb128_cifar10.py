# Mixing (b): FitNets' hint stage, then the paper's KD plus MMRazor's
# attention transfer (ATLoss) between the students' and teacher's layer3
# (8 x 8 maps; attention maps pool channels, so 1024 vs 256 channels match).
_base_ = ['./fitnets_resnet34-resnet50-thin_1xb128_cifar10.py']

model = dict(
    distiller=dict(
        student_recorders=dict(
            layer3=dict(type='ModuleOutputs', source='backbone.layer3')),
        teacher_recorders=dict(
            layer3=dict(type='ModuleOutputs', source='backbone.layer3')),
        distill_losses=dict(loss_at=dict(type='ATLoss', loss_weight=1000.0)),
        loss_forward_mappings=dict(
            loss_at=dict(
                s_feature=dict(from_student=True, recorder='layer3'),
                t_feature=dict(from_student=False, recorder='layer3')))))
