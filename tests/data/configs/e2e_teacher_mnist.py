# End-to-end test, step 1: a tiny teacher (ResNet-18, CIFAR stem, 8 base
# channels) trained by plain backprop on 4,000 real MNIST digits.
default_scope = 'mmpretrain'
custom_imports = dict(imports=['fitnets_mm'], allow_failed_imports=False)
data_root = 'data/mnist'
data_preprocessor = dict(
    type='ClsDataPreprocessor', mean=[33.46], std=[78.87], num_classes=10)


def _net(width: int, depth: int = 18) -> dict:
    return dict(
        type='ImageClassifier',
        data_preprocessor=data_preprocessor,
        backbone=dict(
            type='ResNet_CIFAR',
            depth=depth,
            in_channels=1,
            stem_channels=width,
            base_channels=width,
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=width * 8 * (4 if depth >= 50 else 1),
            loss=dict(type='CrossEntropyLoss')))


model = dict(_scope_='mmpretrain', **_net(8))

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    dataset=dict(
        type='MNIST', data_root=data_root, test_mode=False, indices=4000,
        pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=250,
    num_workers=0,
    dataset=dict(
        type='MNIST', data_root=data_root, split='test', test_mode=True,
        indices=1000,
        pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=2)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
randomness = dict(seed=0)
log_level = 'INFO'
load_from = None
resume = False
