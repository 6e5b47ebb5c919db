"""Validate L_HT on the validation set in stage 1; keep the best weights."""
import copy
from typing import Any, Dict, Optional, Union

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS
from torch.utils.data import DataLoader

__all__ = ['HintValidationHook']

#: Checkpoint key holding the hook's state during stage 1.
CKPT_KEY = 'hint_validation'
#: Checkpoint key holding the early-stopping state.
STOP_KEY = 'hint_early_stop'


@HOOKS.register_module()
class HintValidationHook(Hook):
    """Measure the hint loss on the validation set after each hint epoch.

    The authors monitor the hint cost on a validation set during stage 1
    (``valid_cost_wrt_teacher``), stop when it no longer improves and
    reload the best stage-1 weights before stage 2. This hook computes the
    stage-1 losses of :class:`FitNetsDistill` (``hint.loss_ht``, or one per
    pair) on the validation set after every hint epoch, logs them
    (``Epoch(hint val) [e] hint.loss_ht: ...``, and
    ``hint_val/hint.loss_ht`` in the message hub) and, with
    ``keep_best=True``, reloads the weights of the
    epoch with the lowest total at the switch to stage 2.

    With ``patience``, stage 1 also ends early, as the authors' early
    stopping: once the total has not improved (by more than ``min_delta``)
    for ``patience`` hint epochs, :meth:`FitNetsTrainLoop.end_hint_stage`
    ends it there and stage 2 follows at once (``train_cfg.hint_epochs`` is
    the cap). The log says how many hint epochs were used
    (``Stage 1 stopped early after N of M hint epochs``).

    Note:
        Without ``patience`` the stage lengths stay fixed, so early stopping
        is the selection of the best epoch only. The best weights, the
        epochs without improvement and an early end travel in the
        checkpoints, so a resumed run stops and selects as an unbroken one
        does. Runs before the checkpoint hook (``ABOVE_NORMAL``), so the
        checkpoint of the last hint epoch holds the reloaded weights.

    Args:
        dataloader (DataLoader | dict, optional): The data to validate on.
            Defaults to the dataloader of the runner's ``val_loop``.
        keep_best (bool): Reload the best stage-1 weights (the student and
            the regressors) at the switch; with sequential hints, the best
            of each block at the end of the block. Defaults to False.
        patience (int, optional): End stage 1 after this many hint epochs
            without improvement; None never ends it early. Defaults to None.
        min_delta (float): The decrease of the validation hint loss that
            counts as an improvement. Defaults to 0.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 dataloader: Optional[Union[DataLoader, Dict]] = None,
                 keep_best: bool = False,
                 patience: Optional[int] = None,
                 min_delta: float = 0.) -> None:
        if patience is not None and (not isinstance(patience, int)
                                     or isinstance(patience, bool)
                                     or patience < 1):
            raise ValueError('`patience` must be None or an int >= 1, but '
                             f'got {patience!r}.')
        if min_delta < 0:
            raise ValueError(f'`min_delta` must be >= 0, but got '
                             f'{min_delta!r}.')
        self.dataloader_cfg = dataloader
        self.keep_best = keep_best
        self.patience = patience
        self.min_delta = min_delta
        #: Lowest validation total and hint epochs since it (early stop).
        self.lowest: Optional[float] = None
        self.stale = 0
        #: The hint epochs used when stage 1 ended early, else None.
        self.stopped_at: Optional[int] = None
        self.dataloader: Optional[DataLoader] = None
        self.best: Optional[Dict[str, Any]] = None

    @staticmethod
    def _algorithm(runner: Any) -> Any:
        return runner.model.module if is_model_wrapper(runner.model) else \
            runner.model

    def before_train(self, runner: Any) -> None:
        """Build the dataloader; check the loop has a hint stage."""
        if not hasattr(runner.train_loop, 'stage_of'):
            raise TypeError('HintValidationHook needs FitNetsTrainLoop, but '
                            f'the train loop is '
                            f'{type(runner.train_loop).__name__}.')
        if self.dataloader_cfg is None:
            self.dataloader = runner.val_loop.dataloader
        elif isinstance(self.dataloader_cfg, dict):
            self.dataloader = runner.build_dataloader(
                self.dataloader_cfg, seed=runner.seed)
        else:
            self.dataloader = self.dataloader_cfg
        if self.patience is not None:
            loop = runner.train_loop
            if getattr(loop, 'hint_block_epochs', None) is not None:
                raise ValueError(
                    'HintValidationHook(patience=...) ends stage 1 early, '
                    'which sequential hints (hint_epochs='
                    f'{loop.hint_block_epochs}) do not allow; give '
                    'hint_epochs as one int or drop patience.')
            if getattr(loop, 'has_kd_schedulers', False):
                raise ValueError(
                    'HintValidationHook(patience=...) ends stage 1 early, '
                    "but a parameter scheduler has stage='kd', whose epochs "
                    'are fixed from the configured hint_epochs; drop '
                    'patience or that scheduler.')

    @torch.no_grad()
    def evaluate(self, runner: Any) -> Dict[str, float]:
        """Mean of each stage-1 loss over the validation set."""
        model = self._algorithm(runner)
        was_training = model.training
        model.eval()
        sums: Dict[str, torch.Tensor] = {}
        count = torch.zeros(())
        try:
            for batch in self.dataloader:
                data = model.data_preprocessor(batch, False)
                losses = model.loss(data['inputs'], data['data_samples'])
                n = len(data['inputs'])
                for key, value in losses.items():
                    if 'loss' in key:
                        sums[key] = sums.get(key, 0) + \
                            value.detach().float().cpu() * n
                count += n
        finally:
            model.train(was_training)
        for key in sorted(sums):
            all_reduce(sums[key])
        all_reduce(count)
        return {k: float(v / count) for k, v in sums.items()}

    def after_train_epoch(self, runner: Any) -> None:
        """Validate a hint epoch; at the last one, reload the best."""
        loop = runner.train_loop
        epoch = runner.epoch  # 0-based, the epoch just trained
        if loop.stage_of(epoch) != 'hint':
            return
        losses = self.evaluate(runner)
        total = sum(losses.values())
        for key, value in losses.items():
            runner.message_hub.update_scalar(f'hint_val/{key}', value)
        text = '  '.join(f'{k}: {v:.4f}' for k, v in losses.items())
        runner.logger.info(f'Epoch(hint val) [{epoch + 1}]  {text}')
        if self.patience is not None:
            self._early_stop(runner, epoch, total)
        if not self.keep_best:
            return
        if self.best is None or total < self.best['loss']:
            self.best = dict(
                epoch=epoch + 1,
                loss=total,
                state=copy.deepcopy(self._hint_state(runner)))
        block_of = getattr(loop, 'hint_block_of', lambda e: None)
        if loop.stage_of(epoch + 1) != 'hint' or \
                block_of(epoch + 1) != block_of(epoch):
            self._algorithm(runner).load_state_dict(
                self.best['state'], strict=False)
            runner.logger.info(
                f'Hint phase ends: reloaded the best stage-1 weights, from '
                f'epoch {self.best["epoch"]} (validation hint loss '
                f'{self.best["loss"]:.4f}).')
            self.best = None

    def _early_stop(self, runner: Any, epoch: int, total: float) -> None:
        """Count hint epochs without improvement; end stage 1 after
        ``patience`` of them."""
        if self.lowest is None or total < self.lowest - self.min_delta:
            self.lowest, self.stale = total, 0
            return
        self.stale += 1
        loop = runner.train_loop
        if self.stale < self.patience or loop.stage_of(epoch + 1) != 'hint':
            return
        cap = loop.hint_epochs_cap
        loop.end_hint_stage(epoch + 1)
        self.stopped_at = epoch + 1
        runner.logger.info(
            f'Stage 1 stopped early after {epoch + 1} of {cap} hint epochs: '
            f'the validation hint loss has not improved for {self.stale} '
            f'epochs (patience {self.patience}, lowest {self.lowest:.4f}); '
            f'stage 2 runs epochs {epoch + 2}-{loop.max_epochs}.')

    def _hint_state(self, runner: Any) -> Dict[str, torch.Tensor]:
        """The student's and the regressors' weights and buffers."""
        state = self._algorithm(runner).state_dict()
        return {k: v.detach().cpu() for k, v in state.items()
                if not k.startswith(('teacher.', 'distiller.'))}

    def before_save_checkpoint(self, runner: Any,
                               checkpoint: Dict[str, Any]) -> None:
        """Keep the best-so-far in stage-1 checkpoints."""
        if self.best is not None:
            checkpoint[CKPT_KEY] = self.best
        if self.patience is not None:
            checkpoint[STOP_KEY] = dict(lowest=self.lowest, stale=self.stale,
                                        stopped_at=self.stopped_at)

    def after_load_checkpoint(self, runner: Any,
                              checkpoint: Dict[str, Any]) -> None:
        """Restore the best-so-far when resuming in stage 1."""
        self.best = checkpoint.get(CKPT_KEY)
        state = checkpoint.get(STOP_KEY) or {}
        self.lowest = state.get('lowest')
        self.stale = state.get('stale', 0)
        self.stopped_at = state.get('stopped_at')
        if self.stopped_at is not None:
            runner.train_loop.end_hint_stage(self.stopped_at)
            runner.logger.info(
                f'Resumed a run whose stage 1 stopped early after '
                f'{self.stopped_at} hint epochs.')
