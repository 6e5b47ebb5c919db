"""Export trained FitNets students for use without fitnets_mm, and publish
checkpoints for the model zoo."""
from .publish import publish_checkpoint, published_checkpoint
from .student_checkpoint import export_student, student_checkpoint

__all__ = [
    'export_student', 'publish_checkpoint', 'published_checkpoint',
    'student_checkpoint'
]
