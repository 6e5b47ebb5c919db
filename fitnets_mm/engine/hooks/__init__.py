"""Hooks: the lambda schedule, max-norm constraints, stage-1 validation,
the teacher-output cache, stage-2 early stopping, the finite-loss and
finite-weights guards, rank-0 buffers for every rank, ``--reset-lr``."""
from .broadcast_buffers_hook import BroadcastBuffersHook
from .finite_checkpoint_hook import (FiniteWeightsGuardHook,
                                     NonFiniteWeightsError)
from .finite_loss_hook import FiniteLossGuardHook, NonFiniteLossError
from .hint_stage_hook import HintStageHook
from .hint_validation_hook import HintValidationHook
from .loss_weight_schedule_hook import LossWeightScheduleHook
from .max_norm_hook import MaxNormHook, apply_max_norm
from .reset_lr_hook import ResetLearningRateHook
from .stage_early_stopping_hook import StageEarlyStoppingHook
from .teacher_cache_hook import TeacherCacheHook

__all__ = [
    'BroadcastBuffersHook',
    'FiniteLossGuardHook',
    'FiniteWeightsGuardHook',
    'HintStageHook',
    'HintValidationHook',
    'LossWeightScheduleHook',
    'MaxNormHook',
    'NonFiniteLossError',
    'NonFiniteWeightsError',
    'ResetLearningRateHook',
    'StageEarlyStoppingHook',
    'TeacherCacheHook',
    'apply_max_norm',
]
