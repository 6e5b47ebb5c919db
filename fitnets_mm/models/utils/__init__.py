"""Helpers shared by the FitNets models."""
from .feature_recorder import FeatureRecorder, StopForward, tensor_shape
from .fsp_matrix import fsp_matrix, match_spatial
from .module_paths import get_module, module_paths
from .teacher_output_cache import TeacherOutputCache, run_teacher

__all__ = [
    'FeatureRecorder', 'StopForward', 'TeacherOutputCache', 'fsp_matrix',
    'get_module', 'match_spatial', 'module_paths', 'run_teacher',
    'tensor_shape'
]
