# FitNets on CIFAR-100: the MMPretrain zoo ResNet-50 (79.90 % top-1) teaches
# a ResNet-50 at half width (6.1M parameters, 0.26x the teacher's 23.7M).
# Hint: teacher layer2 (512 x 16 x 16); guided: student layer2
# (256 x 16 x 16). Same two-stage schedule as the CIFAR-10 job.
_base_ = ['./fitnets_resnet34-resnet50-thin_1xb128_cifar10.py']

dataset_type = 'CIFAR100'
data_root = 'data/cifar100/'
data_preprocessor = dict(
    type='BatchClsDataPreprocessor',
    num_classes=100,
    mean=[129.304, 124.070, 112.434],
    std=[68.170, 65.392, 70.418],
    to_rgb=False)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader

model = dict(
    architecture=dict(
        data_preprocessor=data_preprocessor,
        head=dict(num_classes=100)),
    teacher=dict(cfg_path='mmpretrain::resnet/resnet50_8xb16_cifar100.py'),
    teacher_ckpt=('https://download.openmmlab.com/mmclassification/v0/'
                  'resnet/resnet50_b16x8_cifar100_20210528-67b58a1b.pth'))
