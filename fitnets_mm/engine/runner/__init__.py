"""Loops: the two-stage FitNets train loop and its validation loop; the
log processor that tags training losses with the stage."""
from .fitnets_train_loop import FitNetsTrainLoop
from .stage_log_processor import StageLogProcessor
from .teacher_once_val_loop import TeacherOnceValLoop

__all__ = ['FitNetsTrainLoop', 'StageLogProcessor', 'TeacherOnceValLoop']
