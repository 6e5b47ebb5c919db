"""Hooks: the lambda schedule, the finite-weights checkpoint guard, rank-0
buffers for every rank."""
from .broadcast_buffers_hook import BroadcastBuffersHook
from .finite_checkpoint_hook import (FiniteWeightsGuardHook,
                                     NonFiniteWeightsError)
from .hint_stage_hook import HintStageHook
from .loss_weight_schedule_hook import LossWeightScheduleHook

__all__ = [
    'BroadcastBuffersHook', 'FiniteWeightsGuardHook', 'HintStageHook',
    'LossWeightScheduleHook', 'NonFiniteWeightsError'
]
