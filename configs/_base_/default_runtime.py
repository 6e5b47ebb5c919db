# Runtime shared by every fitnets_mm config.
default_scope = 'mmpretrain'
# Registers the FitNets components and applies the torch 2.x compat fixes.
custom_imports = dict(imports=['fitnets_mm'], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
    # every rank ends each epoch with rank 0's BatchNorm statistics
    broadcast_buffers=dict(type='mmrazor.BroadcastBuffersHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; fitnets_mm falls back to gloo where CUDA is unavailable.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [
    dict(type='LocalVisBackend'),
    # dict(type='TensorboardVisBackend'),  # uncomment for TensorBoard
]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)

# Stage 1 uses only the front of the student and stage 2 not the regressors,
# so DistributedDataParallel must tolerate unused parameters; buffers (BN
# statistics) are broadcast from rank 0 so that every rank holds the same
# student.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    broadcast_buffers=True,
    find_unused_parameters=True)
