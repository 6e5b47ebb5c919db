"""Training scalars tagged by stage, for TensorBoard, W&B and scalars.json."""
from typing import Any, Tuple

from mmengine.model import is_model_wrapper
from mmengine.registry import LOG_PROCESSORS
from mmengine.runner import LogProcessor

__all__ = ['STAGE_NUMBERS', 'StageLogProcessor', 'stage_tag']

#: The algorithm's stage name -> its number in the tags.
STAGE_NUMBERS = {'hint': 1, 'kd': 2}


def stage_tag(key: str, stage: int) -> str:
    """The tag of a training loss ``key`` in ``stage``: ``stage<N>/<key>``.

    Args:
        key (str): The loss name (``loss``, ``hint.loss_ht``, ...).
        stage (int): 1 or 2.

    Returns:
        str: E.g. ``'stage1/loss'``.
    """
    return f'stage{stage}/{key}'


@LOG_PROCESSORS.register_module()
class StageLogProcessor(LogProcessor):
    """mmengine's ``LogProcessor`` that tags training losses with the stage.

    A FitNets or FSP run logs the total ``loss`` in both stages, at very
    different scales (stage 1's summed L_HT in the thousands, stage 2's KD
    loss under 10), so one ``loss`` curve in TensorBoard or W&B shows a cliff
    and hides stage 2. In the scalars sent to the visualizer (its backends,
    ``scalars.json`` included), every key containing ``loss`` becomes
    ``stage<N>/<key>`` (TensorBoard groups them in a section per stage);
    ``stage`` (1 or 2) is added, and with FitNets' train loop
    ``stage_start_iter``, the stage's first iteration (1-based, as
    ``iter``), which ``tools/analysis/analyze_logs.py`` marks as the switch.
    The text log is unchanged. For a model
    without stages (a plain MMRazor or MMPretrain run) nothing changes.

    Note:
        Registered in mmengine's root ``LOG_PROCESSORS``, so
        ``log_processor = dict(type='StageLogProcessor')`` resolves in every
        default scope; the other arguments are ``LogProcessor``'s.
    """

    def get_log_after_iter(self, runner: Any, batch_idx: int,
                           mode: str) -> Tuple[dict, str]:
        """Format the iteration's log; tag a training iteration's losses.

        Args:
            runner (Runner): The runner.
            batch_idx (int): The batch index in the loop.
            mode (str): ``'train'``, ``'val'`` or ``'test'``.

        Returns:
            Tuple[dict, str]: The scalars for the visualizer and the text
            line of the log.
        """
        tag, log_str = super().get_log_after_iter(runner, batch_idx, mode)
        if mode != 'train':
            return tag, log_str
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        stage = STAGE_NUMBERS.get(getattr(model, 'stage', None))
        if stage is None:
            return tag, log_str
        tagged = {(stage_tag(key, stage) if 'loss' in key
                   and not key.startswith('lambda_') else key): value
                  for key, value in tag.items()}
        tagged['stage'] = stage
        loop = getattr(runner, 'train_loop', None)
        if hasattr(loop, 'stage_span') and hasattr(loop, 'dataloader'):
            begin = loop.stage_span(getattr(model, 'stage'))[0]
            tagged['stage_start_iter'] = begin * len(loop.dataloader) + 1
        return tagged, log_str
