"""Anneal the weight of distillation losses (FitNets' lambda schedule)."""
from typing import Any, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

__all__ = ['LossWeightScheduleHook']


@HOOKS.register_module()
class LossWeightScheduleHook(Hook):
    """Set a distill loss's weight linearly from ``start`` to ``end``.

    FitNets trains stage 2 on ``H(y, P_S) + lambda * H(P_T^tau, P_S^tau)``
    with lambda decayed linearly from 4 to 1 over the stage. This hook sets
    the attribute ``attr`` (``loss_weight``) of each named loss in
    ``model.distiller.distill_losses`` before every iteration:

    ``lambda(t) = start + (end - start) * t / (T - 1)``, where ``t`` is the
    iteration counted from the schedule's first and ``T`` the number of
    iterations in ``[begin_epoch, end_epoch)``; before the span lambda is
    ``start``, after it ``end``. The value is a function of the iteration
    alone, so resuming restores it; it is logged as ``lambda_<loss name>``.

    Args:
        loss_names (str | Sequence[str]): Keys of ``distill_losses``.
            Defaults to ``'loss_kd'``.
        start (float): Weight at the first iteration. Defaults to 4.0.
        end (float): Weight at the last iteration. Defaults to 1.0.
        begin_epoch (int, optional): First epoch of the span. Defaults to
            the first epoch of the KD stage of :class:`FitNetsTrainLoop`
            (else 0).
        end_epoch (int, optional): Epoch after the span. Defaults to the end
            of training.
        attr (str): The attribute to set. Defaults to ``'loss_weight'``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 loss_names: Union[str, Sequence[str]] = 'loss_kd',
                 start: float = 4.0,
                 end: float = 1.0,
                 begin_epoch: Optional[int] = None,
                 end_epoch: Optional[int] = None,
                 attr: str = 'loss_weight') -> None:
        self.loss_names = [loss_names] if isinstance(loss_names, str) else \
            list(loss_names)
        if not self.loss_names:
            raise ValueError('`loss_names` must name at least one loss.')
        self.start = float(start)
        self.end = float(end)
        self.begin_epoch = begin_epoch
        self.end_epoch = end_epoch
        self.attr = attr
        self._span = (0, 1)  # iterations [first, last + 1)

    def before_train(self, runner: Any) -> None:
        """Resolve the span and check it lies in the KD stage."""
        loop = runner.train_loop
        max_epochs = loop.max_epochs
        kd_begin = getattr(loop, 'hint_epochs', 0)
        begin = kd_begin if self.begin_epoch is None else self.begin_epoch
        end = max_epochs if self.end_epoch is None else self.end_epoch
        if not kd_begin <= begin < end <= max_epochs:
            raise ValueError(
                f'The lambda schedule of {self.loss_names} spans epochs '
                f'[{begin}, {end}), but the KD stage is epochs [{kd_begin}, '
                f'{max_epochs}); expected {kd_begin} <= begin_epoch < '
                f'end_epoch <= {max_epochs}.')
        model = runner.model.module if is_model_wrapper(runner.model) else \
            runner.model
        losses = getattr(getattr(model, 'distiller', None), 'distill_losses',
                         {})
        for name in self.loss_names:
            if name not in losses or not hasattr(losses[name], self.attr):
                raise KeyError(
                    f'LossWeightScheduleHook: no distill loss {name!r} with '
                    f'attribute {self.attr!r}; the distiller has '
                    f'{list(losses)}.')
        self._losses = [losses[n] for n in self.loss_names]
        per_epoch = len(loop.dataloader)
        self._span = (begin * per_epoch, end * per_epoch)

    def value_at(self, iteration: int) -> float:
        """Lambda at the 0-based global ``iteration``."""
        first, stop = self._span
        steps = max(stop - first - 1, 1)
        progress = min(max((iteration - first) / steps, 0.0), 1.0)
        return self.start + (self.end - self.start) * progress

    def before_train_iter(self,
                          runner: Any,
                          batch_idx: int,
                          data_batch: Any = None) -> None:
        """Set the weights for this iteration and log them."""
        value = self.value_at(runner.iter)
        for name, loss in zip(self.loss_names, self._losses):
            setattr(loss, self.attr, value)
            runner.message_hub.update_scalar(f'train/lambda_{name}', value)
