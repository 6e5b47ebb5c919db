"""Refuse to save a checkpoint whose weights hold NaN or Inf."""
from typing import Any, Dict, Optional, Tuple

import torch
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

from .resume_advice import resume_advice

__all__ = ['FiniteWeightsGuardHook', 'NonFiniteWeightsError']


class NonFiniteWeightsError(FloatingPointError):
    """The weights about to be saved in a checkpoint hold NaN or Inf."""


@HOOKS.register_module()
class FiniteWeightsGuardHook(Hook):
    """Stop training instead of saving non-finite weights.

    :class:`FiniteLossGuardHook` stops on a non-finite loss before the
    update, but an update with finite losses can still overflow a weight (a
    huge learning rate, say). Saved, such a checkpoint would become the one
    ``--resume auto`` picks, and ``CheckpointHook`` (``max_keep_ckpts``,
    ``save_best``) deletes older checkpoints *before* it writes a new one, so
    the last good checkpoint would be gone too.

    This hook checks every floating-point tensor of the model state whenever
    ``CheckpointHook`` may save: at the end of every training epoch, after
    iterations at which an iteration-based ``CheckpointHook`` saves, and in
    ``before_save_checkpoint`` (the state really saved, e.g. after
    ``EMAHook`` swapped its averages in). On NaN or Inf it raises
    :class:`NonFiniteWeightsError`, naming the first non-finite entry, the
    stage and the iteration, before anything is deleted or written: the
    checkpoints on disk and ``last_checkpoint`` stay as they were.

    Note:
        The priority ``'LOW'`` runs it after hooks that change the weights
        at the end of an iteration or epoch (``'NORMAL'``, e.g. ``EMAHook``)
        and before ``CheckpointHook`` (``'VERY_LOW'``). The epoch and
        iteration checks run on every rank (the weights are the same on all
        ranks, so all stop together); checkpoints are saved, and so checked
        in ``before_save_checkpoint``, by rank 0.

    Args:
        check_optimizer (bool): Also check the optimizer state (momentum
            buffers) of saved checkpoints. Defaults to False.
    """

    priority = 'LOW'

    def __init__(self, check_optimizer: bool = False) -> None:
        if not isinstance(check_optimizer, bool):
            raise TypeError('`check_optimizer` must be a bool, but got '
                            f'{check_optimizer!r}.')
        self.check_optimizer = check_optimizer

    @staticmethod
    def first_non_finite(state: Any, prefix: str = '') -> Optional[
            Tuple[str, torch.Tensor]]:
        """The first floating-point tensor in ``state`` with NaN or Inf.

        Args:
            state (Any): A tensor, or a (nested) dict / list / tuple of them.
            prefix (str): Name of ``state`` in the result. Defaults to ''.

        Returns:
            tuple[str, Tensor] | None: Its dotted name and the tensor, or
            None if all are finite.
        """
        if isinstance(state, torch.Tensor):
            if (state.is_floating_point() or state.is_complex()) and \
                    not bool(torch.isfinite(state).all()):
                return prefix, state
            return None
        if isinstance(state, dict):
            items: Any = state.items()
        elif isinstance(state, (list, tuple)):
            items = enumerate(state)
        else:
            return None
        for key, value in items:
            found = FiniteWeightsGuardHook.first_non_finite(
                value, f'{prefix}.{key}' if prefix else str(key))
            if found is not None:
                return found
        return None

    @staticmethod
    def _model(runner: Any) -> Any:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _check(self, runner: Any, parts: Dict[str, Any],
               iteration: int) -> None:
        """Raise :class:`NonFiniteWeightsError` if any part is not finite;
        ``iteration`` is the number of iterations done."""
        for part, state in parts.items():
            found = self.first_non_finite(state)
            if found is None:
                continue
            name, tensor = found
            num_nan = int(torch.isnan(tensor).sum())
            num_inf = int(torch.isinf(tensor).sum())
            stage = getattr(self._model(runner), 'stage', None)
            raise NonFiniteWeightsError(
                f'Non-finite weights after iteration {iteration} (epoch '
                f'{runner.epoch + 1}'
                f'{"" if stage is None else f", stage {stage!r}"}): {part} '
                f'entry {name!r} has {num_nan} NaN and {num_inf} Inf of '
                f'{tensor.numel()} values; expected finite weights. Refusing '
                'to save them: the checkpoints already on disk were left '
                'untouched. Lower the learning rate or enable gradient '
                f'clipping. {resume_advice(runner)}.')

    def _check_model(self, runner: Any, iteration: int) -> None:
        self._check(runner, {'state_dict': self._model(runner).state_dict()},
                    iteration)

    def _iter_checkpoint_due(self, runner: Any) -> bool:
        """Whether an iteration-based ``CheckpointHook`` saves now."""
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and not hook.by_epoch and (
                    self.every_n_train_iters(runner, hook.interval) or
                    (hook.save_last and self.is_last_train_iter(runner))):
                return True
        return False

    def after_train_iter(self,
                         runner: Any,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        """Check the weights if an iteration checkpoint is due.

        Args:
            runner (Runner): The runner.
            batch_idx (int): The index of the batch in the epoch.
            data_batch (Any): The data. Defaults to None.
            outputs (dict, optional): The losses. Defaults to None.
        """
        if self._iter_checkpoint_due(runner):
            self._check_model(runner, runner.iter + 1)

    def after_train_epoch(self, runner: Any) -> None:
        """Check the weights before ``CheckpointHook`` rotates and saves.

        Args:
            runner (Runner): The runner.
        """
        self._check_model(runner, runner.iter)

    def before_save_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Check the state about to be saved.

        Args:
            runner (Runner): The runner.
            checkpoint (dict): The checkpoint about to be saved.
        """
        parts = {'state_dict': checkpoint.get('state_dict', {})}
        if self.check_optimizer:
            parts['optimizer'] = checkpoint.get('optimizer', {})
        meta = checkpoint.get('meta') or {}
        self._check(runner, parts, meta.get('iter', runner.iter))
