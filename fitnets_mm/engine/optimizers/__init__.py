"""Optimizer wrapper constructors: one optimizer per FitNets stage."""
from .stage_optim_wrapper_constructor import (StageOptimWrapperConstructor,
                                              hint_trained_parameters)

__all__ = ['StageOptimWrapperConstructor', 'hint_trained_parameters']
