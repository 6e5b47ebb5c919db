"""Keep the end-of-stage-1 checkpoint; say what stage-1 validation means."""
import logging
from typing import Any, Dict, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.runner import BaseLoop
from mmrazor.registry import HOOKS

__all__ = ['HintStageHook']


@HOOKS.register_module()
class HintStageHook(Hook):
    """The two things a FitNets run owes the user about its hint stage.

    * **The end-of-stage-1 checkpoint is always kept.** After the last hint
      epoch the whole state is saved as ``filename`` in the work directory,
      besides ``CheckpointHook``'s ``epoch_N.pth`` (which ``max_keep_ckpts``
      deletes later). It is the checkpoint ``visualize_hints.py`` needs: the
      regressors are dropped in stage 2. It is not named in
      ``last_checkpoint``, so ``--resume auto`` is unchanged.
    * **Stage-1 validation is explained.** In stage 1 only the student's
      layers up to the guided layer (and the regressor) train, so the
      validation accuracy is that of an untrained head, near chance; after
      each stage-1 validation the log says so, with the chance level.

    Note:
        ``configs/_base_/default_runtime.py`` registers it in
        ``default_hooks``, and :class:`FitNetsTrainLoop` adds it to every
        run with a stage 1 that has none; with any other loop (no
        ``stage_of``) it does nothing. The priority ``'VERY_LOW'`` runs it
        after ``FiniteWeightsGuardHook``, which refuses to save non-finite
        weights. Only rank 0 writes.

    Args:
        filename (str): Name of the kept checkpoint in the work directory.
            Defaults to ``'hint_stage_last.pth'``.
    """

    priority = 'VERY_LOW'

    def __init__(self, filename: str = 'hint_stage_last.pth') -> None:
        if not isinstance(filename, str) or not filename.endswith('.pth'):
            raise ValueError('`filename` must be a file name ending in .pth, '
                             f'but got {filename!r}.')
        self.filename = filename

    @staticmethod
    def _stage_of(runner: Any, epoch: int) -> Optional[str]:
        loop = getattr(runner, '_train_loop', None)
        stage_of = getattr(loop, 'stage_of', None)
        if stage_of is None or epoch < 0:
            return None
        return stage_of(epoch)

    @staticmethod
    def _label(runner: Any) -> str:
        """The loop's name of stage 1, e.g. ``'FSP stage 1 (fsp)'``."""
        label = getattr(getattr(runner, '_train_loop', None), 'stage_label',
                        None)
        return label('hint') if label else 'FitNets stage 1 (hint)'

    def after_train_epoch(self, runner: Any) -> None:
        """Save the state after the last hint epoch (``runner.epoch``)."""
        epoch = runner.epoch  # 0-based index of the epoch just trained
        if (self._stage_of(runner, epoch) == 'hint'
                and self._stage_of(runner, epoch + 1) != 'hint'):
            runner.save_checkpoint(runner.work_dir, self.filename)
            print_log(
                f'End of {self._label(runner)} at epoch {epoch + 1}: kept '
                f'as {self.filename} in {runner.work_dir} (the regressors '
                'are dropped in stage 2; use it with visualize_hints.py)',
                logger='current')

    def after_val_epoch(self,
                        runner: Any,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Explain a validation that ran after a stage-1 epoch."""
        if not isinstance(getattr(runner, '_train_loop', None), BaseLoop):
            return  # a validation or test run: no stages
        if self._stage_of(runner, runner.epoch - 1) != 'hint':
            return
        classes = None
        dataloader = getattr(runner.val_loop, 'dataloader', None)
        dataset = getattr(dataloader, 'dataset', None)
        meta = getattr(dataset, 'metainfo', None) or {}
        if meta.get('classes'):
            classes = len(meta['classes'])
        chance = (f', chance is {100 / classes:.2f} % for {classes} classes'
                  if classes else '')
        print_log(
            f'{self._label(runner)}: the student\'s classifier head is not '
            'trained in this stage (only the layers up to the guided layer '
            'and the regressor are), so this validation measures an '
            f'untrained head{chance}; accuracy means something from stage 2 '
            'on.',
            logger='current',
            level=logging.INFO)
