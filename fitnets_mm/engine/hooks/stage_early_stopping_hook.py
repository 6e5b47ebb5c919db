"""Stop training when validation accuracy plateaus, counting stage 2 only."""
from math import inf
from typing import Any, Dict, Optional

from mmengine.hooks import EarlyStoppingHook
from mmrazor.registry import HOOKS

__all__ = ['StageEarlyStoppingHook']

#: Checkpoint key holding the hook's count.
CKPT_KEY = 'stage_early_stopping'


@HOOKS.register_module()
class StageEarlyStoppingHook(EarlyStoppingHook):
    """mmengine's :class:`EarlyStoppingHook` that ignores the validations of
    FitNets' stage 1 and keeps its count in the checkpoints.

    In stage 1 the student's classifier is not trained, so its validation
    accuracy says nothing about a plateau; the count starts with the first
    validation of stage 2. With any other loop (no stages) it acts as
    mmengine's hook. Stage 1 stops on its own validation hint loss
    (``HintValidationHook(patience=...)``).

    A deep student started from a small init (the paper's U(+-0.005)) can
    sit at chance for several epochs before it leaves that plateau, and when
    it does varies by seed; a patience counted from the first validation
    would take that plateau for convergence. With ``begin_level`` the count
    begins at the first validation whose metric is better than that level
    (for accuracy, e.g. twice chance): until then the run goes on, to
    ``max_epochs`` if the metric never gets there.

    Note:
        mmengine validates after the epoch's checkpoint is written, so a run
        resumed from epoch ``e``'s checkpoint counts from before the
        validation of epoch ``e``, which is not run again.

    Args:
        monitor (str): The metric, e.g. ``'accuracy/top1'``.
        begin_level (float, optional): The count begins once the metric is
            better than this (greater, or less with ``rule='less'``).
            Defaults to None: from the first validation, as mmengine's hook.
        **kwargs: The other arguments of :class:`EarlyStoppingHook`
            (``patience``, ``min_delta``, ``rule``, ...).
    """

    def __init__(self, monitor: str, begin_level: Optional[float] = None,
                 **kwargs: Any) -> None:
        super().__init__(monitor, **kwargs)
        if begin_level is not None and not isinstance(begin_level,
                                                      (int, float)):
            raise TypeError('StageEarlyStoppingHook: begin_level must be a '
                            f'number or None, got {begin_level!r}')
        self.begin_level = begin_level

    def _begun(self, runner: Any, metrics: Dict[str, float]) -> bool:
        """Whether the count has begun (``begin_level`` passed)."""
        if self.begin_level is None:
            return True
        better = self.rule_map[self.rule]
        # the first counted score became the best one; it is checkpointed
        if better(self.best_score, self.begin_level):
            return True
        score = metrics.get(self.monitor)
        if score is None or not better(score, self.begin_level):
            return False
        runner.logger.info(
            f'StageEarlyStoppingHook: {self.monitor} = {score:.4g} passed '
            f'{self.begin_level:g} at epoch {runner.epoch}; the plateau '
            f'count (patience {self.patience}) begins')
        return True

    def after_val_epoch(self, runner: Any, metrics: Dict[str, float]) -> None:
        """Count a stage-2 (or single-stage) validation."""
        stage_of = getattr(runner.train_loop, 'stage_of', None)
        # runner.epoch counts the epochs trained; the last one is epoch - 1
        if stage_of is not None and stage_of(runner.epoch - 1) == 'hint':
            return
        if not self._begun(runner, metrics):
            return
        super().after_val_epoch(runner, metrics)

    def before_save_checkpoint(self, runner: Any,
                               checkpoint: Dict[str, Any]) -> None:
        """Keep the best score and the count."""
        checkpoint[CKPT_KEY] = dict(best_score=self.best_score,
                                    wait_count=self.wait_count)

    def after_load_checkpoint(self, runner: Any,
                              checkpoint: Dict[str, Any]) -> None:
        """Restore them when resuming."""
        state = checkpoint.get(CKPT_KEY)
        if state is None:
            return
        default = -inf if self.rule == 'greater' else inf
        self.best_score = state.get('best_score', default)
        self.wait_count = state.get('wait_count', 0)
