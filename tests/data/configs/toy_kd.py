# A tiny MMRazor logits distillation for the tool tests: a thin ResNet-18
# (CIFAR stem) learns MNIST from a wider one through KDSoftCELoss on the
# outputs of ``head.fc``. 512 training and 256 test digits, one epoch: a run
# takes a few seconds on two CPU cores.
#
# ``data_root`` is where ``python shared/data/make_mnist_split.py DIR`` wrote
# the MNIST files; the tests point it at a temporary folder through a leaf
# config (see ``tests/conftest.py``).
custom_imports = dict(imports=['fitnets_mm'], allow_failed_imports=False)
default_scope = 'mmpretrain'

data_root = 'data/mnist'


def _classifier(width: int) -> dict:
    """A ResNet-18 on 28 x 28 one-channel digits, ``width`` stem channels."""
    return dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR',
            depth=18,
            in_channels=1,
            stem_channels=width,
            base_channels=width,
            num_stages=4,
            out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=width * 8,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


model = dict(
    _scope_='mmrazor',
    type='SingleTeacherDistill',
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[33.46],
        std=[78.87],
        num_classes=10),
    architecture=_classifier(4),
    teacher=_classifier(8),
    distiller=dict(
        type='ConfigurableDistiller',
        student_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        teacher_recorders=dict(
            fc=dict(type='ModuleOutputs', source='head.fc')),
        distill_losses=dict(
            loss_kd=dict(type='KDSoftCELoss', tau=2, loss_weight=1.0)),
        loss_forward_mappings=dict(
            loss_kd=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc')))))

train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    dataset=dict(
        type='MNIST',
        data_root=data_root,
        download=False,
        indices=512,
        pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=dict(
        type='MNIST',
        data_root=data_root,
        download=False,
        split='test',
        test_mode=True,  # MNIST picks its test files by test_mode only
        indices=256,
        pipeline=[dict(type='PackInputs')]),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_dataloader = val_dataloader
val_evaluator = dict(type='Accuracy', topk=(1, ))
test_evaluator = val_evaluator

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='ConstantLR', factor=1.0, by_epoch=True)
train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
val_cfg = dict(type='mmrazor.SingleTeacherDistillValLoop')
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=2),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
randomness = dict(seed=0, deterministic=False)
log_level = 'INFO'
load_from = None
resume = False
