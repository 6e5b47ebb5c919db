"""Helpers shared by the FitNets models."""
from .feature_recorder import FeatureRecorder, StopForward, tensor_shape
from .module_paths import get_module, module_paths

__all__ = [
    'FeatureRecorder', 'StopForward', 'get_module', 'module_paths',
    'tensor_shape'
]
