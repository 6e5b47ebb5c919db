"""Sequential hints: stage 1 trained block by block, one hint at a time."""
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn

from ..utils import FeatureRecorder, get_module

__all__ = ['HintBlocks']


class HintBlocks:
    """The stage-1 loss of one hint pair, training only its student block.

    With several hints, the authors train stage 1 block by block: hint
    ``i`` trains the student layers after guided layer ``i - 1`` up to guided
    layer ``i`` (with regressor ``i``) on ``L_HT`` of pair ``i`` alone. Here
    the student's forward stops at guided layer ``i``, the teacher's at hint
    layer ``i``, and the output of guided layer ``i - 1`` is detached, so the
    earlier blocks (already hint-trained) receive no gradient and are not
    updated.

    Args:
        student (nn.Module): The student.
        teacher (nn.Module): The teacher.
        pairs (list[dict]): The hint pairs (``student``, ``teacher`` paths),
            in order of depth.
    """

    def __init__(self, student: nn.Module, teacher: nn.Module,
                 pairs: List[Dict]) -> None:
        self.student = student
        self.teacher = teacher
        self.pairs = pairs
        self._recorders: Dict[int, Tuple[FeatureRecorder,
                                         FeatureRecorder]] = {}

    def check(self, index: Optional[int]) -> None:
        """Check ``index`` names a pair (None: all pairs jointly)."""
        if index is not None and not 0 <= index < len(self.pairs):
            raise ValueError(
                f'The hint block must be None (joint) or in [0, '
                f'{len(self.pairs)}), but got {index!r}.')

    def _recorder(self, index: int) -> Tuple[FeatureRecorder,
                                              FeatureRecorder]:
        if index not in self._recorders:
            pair = self.pairs[index]
            self._recorders[index] = (
                FeatureRecorder(self.student, [pair['student']], stop=True),
                FeatureRecorder(self.teacher, [pair['teacher']], stop=True))
        return self._recorders[index]

    def loss(self, index: int, batch_inputs: torch.Tensor,
             regressor: nn.Module, hint_loss: nn.Module) -> torch.Tensor:
        """``L_HT`` of pair ``index``, with the earlier blocks detached."""
        student_rec, teacher_rec = self._recorder(index)
        pair = self.pairs[index]
        with torch.no_grad():
            hint = teacher_rec.run(
                lambda: self.teacher(batch_inputs, mode='tensor'))
        handle = None
        if index > 0:
            previous = get_module(self.student,
                                  self.pairs[index - 1]['student'])
            handle = previous.register_forward_hook(_detach_output)
        try:
            guided = student_rec.run(
                lambda: self.student(batch_inputs, mode='tensor'))
        finally:
            if handle is not None:
                handle.remove()
        return hint_loss(regressor(guided[pair['student']]),
                         hint[pair['teacher']])


def _detach_output(module: nn.Module, inputs: Any, output: Any) -> Any:
    if isinstance(output, torch.Tensor):
        return output.detach()
    return output
