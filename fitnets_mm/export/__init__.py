"""Export trained FitNets students for use without fitnets_mm."""
from .student_checkpoint import export_student, student_checkpoint

__all__ = ['export_student', 'student_checkpoint']
