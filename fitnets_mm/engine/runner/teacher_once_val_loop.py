"""Validation of the student, with the teacher evaluated once per run."""
from typing import Any, Dict, List, Optional, Union

import torch
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop, autocast
from mmrazor.registry import LOOPS
from torch.utils.data import DataLoader

__all__ = ['TeacherOnceValLoop']


@LOOPS.register_module()
class TeacherOnceValLoop(ValLoop):
    """Validate the student every time; the teacher only at the first run.

    The teacher is frozen, so its accuracy does not change: evaluating it
    every epoch (as MMRazor's ``SingleTeacherDistillValLoop`` does) doubles
    the validation cost for nothing. Its metrics are logged once, prefixed
    ``teacher/``, and kept in :attr:`teacher_metrics`.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader.
        evaluator (Evaluator | dict | list): The evaluator.
        fp16 (bool): Whether to validate with autocast. Defaults to False.
        evaluate_teacher (bool): Whether to evaluate the teacher once.
            Defaults to True.
    """

    def __init__(self,
                 runner: Any,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 fp16: bool = False,
                 evaluate_teacher: bool = True) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.evaluate_teacher = evaluate_teacher
        self.teacher_metrics: Optional[Dict[str, float]] = None

    def run(self) -> dict:
        """Validate the student, and the teacher if not done yet."""
        metrics = super().run()
        if self.evaluate_teacher and self.teacher_metrics is None:
            self.teacher_metrics = self._run_teacher()
            self.runner.logger.info(
                'Teacher (evaluated once, it is frozen): ' + '  '.join(
                    f'teacher/{k}: {v:.4f}' if isinstance(v, float) else
                    f'teacher/{k}: {v}'
                    for k, v in self.teacher_metrics.items()))
        return metrics

    @torch.no_grad()
    def _run_teacher(self) -> Dict[str, float]:
        model = self.runner.model
        algorithm = model.module if is_model_wrapper(model) else model
        teacher = algorithm.teacher
        teacher.eval()
        for data_batch in self.dataloader:
            data = algorithm.data_preprocessor(data_batch, False)
            with autocast(enabled=self.fp16):
                if isinstance(data, dict):
                    outputs = teacher(**data, mode='predict')
                else:
                    outputs = teacher(*data, mode='predict')
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        return self.evaluator.evaluate(len(self.dataloader.dataset))
