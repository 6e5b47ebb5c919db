# FitNets on ImageNet with the pair of MMRazor's (joint) FitNets config,
# trained here in two stages: teacher ResNet-50 (MMPretrain zoo, 76.55 %),
# student ResNet-18. Hint: teacher layer3 (1024 x 14 x 14); guided: student
# layer3 (256 x 14 x 14), so MMRazor's published 70.58 top-1 for its joint
# FitNets can be compared with this two-stage run.
#
#   bash tools/dist_train.sh configs/fitnets/fitnets_resnet50-resnet18_8xb32_in1k.py 8
_base_ = [
    '../_base_/datasets/imagenet_bs32.py',
    '../_base_/models/fitnets_logits_kd.py',
    '../_base_/schedules/fitnets_two_stage_sgd.py',
    '../_base_/default_runtime.py',
]

model = dict(
    input_shape=(3, 224, 224),
    architecture=dict(
        cfg_path='mmpretrain::resnet/resnet18_8xb32_in1k.py',
        pretrained=False),
    teacher=dict(
        cfg_path='mmpretrain::resnet/resnet50_8xb32_in1k.py',
        pretrained=False),
    teacher_ckpt=('https://download.openmmlab.com/mmclassification/v0/'
                  'resnet/resnet50_8xb32_in1k_20210831-ea4938fc.pth'),
    hints=[
        dict(
            student='backbone.layer3',
            teacher='backbone.layer3',
            regressor=dict(kernel_size=3),
            loss=dict(type='HintLoss', loss_weight=1.0)),
    ])

# 8 GPUs x 32 images = 256 per step, MMPretrain's ImageNet ResNet recipe.
train_cfg = dict(hint_epochs=10, kd_epochs=100)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='ConstantLR', factor=0.01, by_epoch=True, stage='hint'),
    dict(
        type='MultiStepLR',
        by_epoch=True,
        milestones=[30, 60, 90],
        gamma=0.1,
        stage='kd'),
]
auto_scale_lr = dict(base_batch_size=256)
