"""Hooks: the lambda schedule, max-norm constraints, the finite-weights
checkpoint guard, rank-0 buffers for every rank."""
from .broadcast_buffers_hook import BroadcastBuffersHook
from .finite_checkpoint_hook import (FiniteWeightsGuardHook,
                                     NonFiniteWeightsError)
from .loss_weight_schedule_hook import LossWeightScheduleHook
from .max_norm_hook import MaxNormHook, apply_max_norm

__all__ = [
    'BroadcastBuffersHook', 'FiniteWeightsGuardHook', 'LossWeightScheduleHook',
    'MaxNormHook', 'NonFiniteWeightsError', 'apply_max_norm'
]
