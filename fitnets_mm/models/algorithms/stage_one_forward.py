"""The truncated forwards of stage 1: all pairs jointly, or block by block."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from ..utils import FeatureRecorder, get_module

__all__ = ['StageOneForward']

#: The layers of one stage-1 pair: (student paths, teacher paths), each in
#: order of depth.
PairPaths = Tuple[Sequence[str], Sequence[str]]


class StageOneForward:
    """One forward per network that records the layers stage 1 needs and
    stops at the deepest, so nothing after them is computed and the
    student's later parameters get no gradient.

    Jointly (``index=None``) the layers of every pair are recorded. For one
    block (sequential hints, the authors' form) only those of pair
    ``index``: the student's forward stops at its layers, the teacher's at
    its own, and the output of the deepest student layer of pair
    ``index - 1`` is detached, so the earlier blocks (already trained)
    receive no gradient and are not updated.

    Args:
        student (nn.Module): The student.
        teacher (nn.Module): The frozen teacher; run under ``no_grad``.
        pairs (list[tuple]): The layers of each pair (``PairPaths``), in
            order of depth; of any kind of stage-1 term.
        run_teacher (callable, optional): Runs the joint teacher forward it
            is given and returns its recorded outputs, e.g. from the
            teacher-output cache (:func:`run_teacher` of
            ``models/utils/teacher_output_cache.py``). Defaults to None: the
            forward runs under ``no_grad``.
    """

    def __init__(self,
                 student: nn.Module,
                 teacher: nn.Module,
                 pairs: List[PairPaths],
                 run_teacher: Optional[Callable[[Callable[[], Dict]],
                                                Dict]] = None) -> None:
        self.student = student
        self.teacher = teacher
        self.pairs = pairs
        self.run_teacher = run_teacher
        self._recorders: Dict[Optional[int], Tuple[FeatureRecorder,
                                                   FeatureRecorder]] = {}

    def check(self, index: Optional[int]) -> None:
        """Check ``index`` names a pair (None: all pairs jointly)."""
        if index is not None and not 0 <= index < len(self.pairs):
            raise ValueError(
                f'The hint block must be None (joint) or in [0, '
                f'{len(self.pairs)}), but got {index!r}.')

    def _recorder(self, index: Optional[int]) -> Tuple[FeatureRecorder,
                                                        FeatureRecorder]:
        if index not in self._recorders:
            pairs = self.pairs if index is None else [self.pairs[index]]
            self._recorders[index] = (
                FeatureRecorder(self.student, [p for s, _ in pairs for p in s],
                                stop=True, role='student layer'),
                FeatureRecorder(self.teacher, [p for _, t in pairs for p in t],
                                stop=True, role='teacher layer'))
        return self._recorders[index]

    def __call__(self, batch_inputs: torch.Tensor,
                 index: Optional[int] = None) -> Tuple[Dict, Dict]:
        """The recorded student and teacher outputs of pair ``index`` (None:
        of every pair)."""
        student_rec, teacher_rec = self._recorder(index)

        def teacher_forward() -> Dict:
            return teacher_rec.run(
                lambda: self.teacher(batch_inputs, mode='tensor'))

        if index is None and self.run_teacher is not None:
            t_feats = self.run_teacher(teacher_forward)
        else:
            with torch.no_grad():
                t_feats = teacher_forward()
        handle = None
        if index:
            previous = get_module(self.student, self.pairs[index - 1][0][-1])
            handle = previous.register_forward_hook(_detach_output)
        try:
            s_feats = student_rec.run(
                lambda: self.student(batch_inputs, mode='tensor'))
        finally:
            if handle is not None:
                handle.remove()
        return s_feats, t_feats


def _detach_output(module: nn.Module, inputs: Any, output: Any) -> Any:
    if isinstance(output, torch.Tensor):
        return output.detach()
    return output
