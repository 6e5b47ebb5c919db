"""Stop training on a NaN or infinite loss, before the update on the CPU."""
from typing import Any, Dict, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmrazor.registry import HOOKS

from .resume_advice import resume_advice

__all__ = ['FiniteLossGuardHook', 'NonFiniteLossError']


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite during training."""


@HOOKS.register_module()
class FiniteLossGuardHook(Hook):
    """Stop training when a loss or the total is NaN or infinite.

    The guard sits in each optimizer wrapper's ``update_params``, which gets
    the total loss between forward and backward. On the CPU a non-finite
    total is seen there at once: backward and step are skipped, so no
    parameter is updated with it. On an accelerator, reading the flag would
    stall the host between forward and backward, so the step is taken and
    the flag, kept on the device, is read after it, where mmengine's logging
    reads the losses anyway. Either way ``after_train_iter``, which gets the
    named losses, raises :class:`NonFiniteLossError` naming the non-finite
    ones, the stage and the iteration, with a command that continues the
    run (:func:`resume_advice`).

    Note:
        ``configs/_base_/default_runtime.py`` registers it for every run,
        and :class:`FitNetsTrainLoop` adds it to any run that has none.
        The priority ``'VERY_HIGH'`` raises before the logger, the
        checkpoint hooks and ``FiniteWeightsGuardHook`` see the iteration.
        Any optimizer wrapper works (``AmpOptimWrapper``, the per-stage
        wrappers of :class:`StageOptimWrapperConstructor`).
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._flag: Optional[Tuple[torch.Tensor, bool]] = None

    @staticmethod
    def defer(loss: torch.Tensor) -> bool:
        """Whether the check waits for the end of the step: on any device
        but the CPU."""
        return loss.device.type != 'cpu'

    def guard(self, wrapper: OptimWrapper) -> None:
        """Make ``wrapper.update_params`` check the total loss first.

        Args:
            wrapper (OptimWrapper): An optimizer wrapper.
        """
        update = getattr(wrapper.update_params, '__wrapped__',
                         wrapper.update_params)

        def update_params(loss: torch.Tensor, *args: Any,
                          **kwargs: Any) -> None:
            finite = torch.isfinite(loss.detach()).all()
            applied = self.defer(loss)
            self._flag = (finite, applied)
            if applied or bool(finite):
                update(loss, *args, **kwargs)

        update_params.__wrapped__ = update
        wrapper.update_params = update_params

    def before_train(self, runner: Any) -> None:
        """Guard every optimizer wrapper of the run.

        Args:
            runner (Runner): The runner.
        """
        wrappers = runner.optim_wrapper
        for wrapper in (wrappers.values() if isinstance(
                wrappers, OptimWrapperDict) else [wrappers]):
            self.guard(wrapper)

    def after_train_iter(self,
                         runner: Any,
                         batch_idx: int,
                         data_batch: Any = None,
                         outputs: Optional[Dict] = None) -> None:
        """Raise if the iteration's loss was not finite.

        Args:
            runner (Runner): The runner.
            batch_idx (int): The index of the batch in the epoch.
            data_batch (Any): The data. Defaults to None.
            outputs (dict, optional): The named losses. Defaults to None.

        Raises:
            NonFiniteLossError: A loss or the total was NaN or infinite.
        """
        flag, self._flag = self._flag, None
        if flag is None or bool(flag[0]):
            return
        model = runner.model.module if is_model_wrapper(runner.model) \
            else runner.model
        bad = {k: float(torch.as_tensor(v).detach().float().mean())
               for k, v in (outputs or {}).items()
               if not bool(torch.isfinite(torch.as_tensor(v)).all())}
        where = ('The update of that iteration was applied (on an '
                 'accelerator the check waits for the end of the step), '
                 'and no checkpoint is written with it.' if flag[1] else
                 'Training stopped before the update, so the weights are '
                 'unchanged.')
        stage = getattr(model, 'stage', None)
        raise NonFiniteLossError(
            f'Non-finite loss{"" if stage is None else f" in stage {stage!r}"}'
            f' at iteration {runner.iter + 1}: {bad}. {where} Lower the loss '
            'weights or enable gradient clipping in the config. '
            f'{resume_advice(runner)}.')
