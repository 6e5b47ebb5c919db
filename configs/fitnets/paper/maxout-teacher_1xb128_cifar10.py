# The paper's CIFAR-10 maxout teacher, trained by plain backprop. FitNet
# 1-4 configs load its checkpoint as `teacher_ckpt`.
#   python tools/train.py configs/fitnets/paper/maxout-teacher_1xb128_cifar10.py
_base_ = [
    '../../_base_/models/maxout-teacher_cifar10.py',
    '../../_base_/default_runtime.py',
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[100, 150], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=200, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
