"""Stop training when validation accuracy plateaus, counting stage 2 only."""
from math import inf
from typing import Any, Dict

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

    Note:
        mmengine validates after the epoch's checkpoint is written, so a run
        resumed from epoch ``e``'s checkpoint counts from before the
        validation of epoch ``e``, which is not run again.

    Args:
        monitor (str): The metric, e.g. ``'accuracy/top1'``.
        **kwargs: The other arguments of :class:`EarlyStoppingHook`
            (``patience``, ``min_delta``, ``rule``, ...).
    """

    def after_val_epoch(self, runner: Any, metrics: Dict[str, float]) -> None:
        """Count a stage-2 (or single-stage) validation."""
        stage_of = getattr(runner.train_loop, 'stage_of', None)
        # runner.epoch counts the epochs trained; the last one is epoch - 1
        if stage_of is not None and stage_of(runner.epoch - 1) == 'hint':
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
