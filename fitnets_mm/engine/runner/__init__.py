"""Loops: the two-stage FitNets train loop and its validation loop."""
from .fitnets_train_loop import FitNetsTrainLoop
from .teacher_once_val_loop import TeacherOnceValLoop

__all__ = ['FitNetsTrainLoop', 'TeacherOnceValLoop']
