"""Hooks: the lambda schedule, max-norm constraints, stage-1 validation,
the teacher-output cache, stage-2 early stopping,
the finite-weights checkpoint guard, rank-0 buffers for every rank."""
from .broadcast_buffers_hook import BroadcastBuffersHook
from .finite_checkpoint_hook import (FiniteWeightsGuardHook,
                                     NonFiniteWeightsError)
from .hint_stage_hook import HintStageHook
from .hint_validation_hook import HintValidationHook
from .loss_weight_schedule_hook import LossWeightScheduleHook
from .max_norm_hook import MaxNormHook, apply_max_norm
from .stage_early_stopping_hook import StageEarlyStoppingHook
from .teacher_cache_hook import TeacherCacheHook

__all__ = [
    'BroadcastBuffersHook',
    'FiniteWeightsGuardHook',
    'HintStageHook',
    'HintValidationHook',
    'LossWeightScheduleHook',
    'MaxNormHook',
    'NonFiniteWeightsError',
    'StageEarlyStoppingHook',
    'TeacherCacheHook',
    'apply_max_norm',
]
