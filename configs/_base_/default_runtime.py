# Runtime shared by every fitnets_mm config: MMPretrain's default runtime
# with what FitNets runs need on top of it.
_base_ = ['mmpretrain::_base_/default_runtime.py']

# Registers the FitNets components and applies the torch 2.x compat fixes.
custom_imports = dict(imports=['fitnets_mm'], allow_failed_imports=False)

default_hooks = dict(
    # the paper-scale runs have few iterations per epoch
    logger=dict(interval=50),
    # keep the best and the last three epochs (hint_stage below keeps the
    # end of stage 1 apart as hint_stage_last.pth)
    checkpoint=dict(max_keep_ckpts=3, save_best='auto'),
    # every rank ends each epoch with rank 0's BatchNorm statistics
    broadcast_buffers=dict(type='mmrazor.BroadcastBuffersHook'),
    # The parts every run needs, here rather than in custom_hooks, which a
    # leaf that restates the list would drop (FitNetsTrainLoop also adds
    # any a config lacks). A NaN/Inf loss stops training before the
    # update; NaN/Inf weights are never saved over the last good
    # checkpoint; a two-stage run keeps the end of stage 1 as
    # hint_stage_last.pth (with other loops it does nothing).
    finite_loss=dict(type='mmrazor.FiniteLossGuardHook'),
    finite_weights=dict(type='mmrazor.FiniteWeightsGuardHook'),
    hint_stage=dict(type='mmrazor.HintStageHook'),
)

# dist_cfg stays MMPretrain's nccl: fitnets_mm falls back to gloo where CUDA
# is unavailable.

# MMPretrain's visualizer, restated here: inherited through `mmpretrain::`, the
# dict gets `_scope_='mmpretrain'`, which MMPretrain's own
# tools/visualization/browse_dataset.py passes on to the visualizer's
# constructor (`unexpected keyword argument '_scope_'`). The scope is in the
# type instead, so it resolves whatever the default scope.
visualizer = dict(
    _delete_=True,
    type='mmpretrain.UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])

# Training losses reach TensorBoard, WandB and scalars.json as
# stage1/<loss> and stage2/<loss> (stage 1's summed L_HT is thousands of times
# stage 2's loss); the text log is unchanged.
log_processor = dict(type='StageLogProcessor')

# TensorBoard or WandB: pip install -e ".[tensorboard]" (or ".[wandb]") and
# add dict(type='TensorboardVisBackend') to visualizer.vis_backends
# (README, "Learning curves").

# Stage 1 uses only the front of the student and stage 2 not the regressors,
# so DistributedDataParallel must tolerate unused parameters; buffers (BN
# statistics) are broadcast from rank 0 so that every rank holds the same
# student.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel',
    broadcast_buffers=True,
    find_unused_parameters=True)
