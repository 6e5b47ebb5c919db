"""Anneal the weight of distillation losses (FitNets' lambda schedule)."""
from typing import Any, List, Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmrazor.registry import HOOKS

__all__ = ['LossWeightScheduleHook']


@HOOKS.register_module()
class LossWeightScheduleHook(Hook):
    """Set a distill loss's weight linearly from ``start`` to ``end``.

    FitNets trains stage 2 on ``H(y, P_S) + lambda * H(P_T^tau, P_S^tau)``
    with lambda decayed linearly from 4 to 1. This hook sets the attribute
    ``attr`` (``loss_weight``) of each named loss in
    ``model.distiller.distill_losses`` before every iteration of the KD
    stage, and logs it as ``lambda_<loss name>`` (only while it is in
    force: not in the hint stage).

    Lambda is ``start`` before ``begin_epoch``, moves linearly to ``end``
    over ``[begin_epoch, end_epoch)`` and is ``end`` from ``end_epoch`` on:

    * ``by_epoch=False`` (default): per iteration,
      ``lambda(t) = start + (end - start) * t / (T - 1)`` with ``t`` counted
      from the span's first iteration and ``T`` its length, so the span's
      last iteration has ``end``;
    * ``by_epoch=True``: once per epoch, as the authors'
      ``TeacherDecayOverEpoch(start, saturate, final_wteach)``:
      ``lambda = start - (start - end) * (c + 1) / (S + 1)`` in the span's
      ``c``-th epoch (0-based) of ``S``, then ``end``.

    ``end_epoch`` may lie past the end of training (the original's CIFAR-10
    schedule saturates at epoch 400 of 288); lambda then stops on the way.
    The value is a function of the iteration alone, so resuming restores
    it. A run without a KD stage (``kd_epochs=0``) leaves the losses alone.

    Args:
        loss_names (str | Sequence[str]): Keys of ``distill_losses``.
            Defaults to ``'loss_kd'``.
        start (float): Weight until ``begin_epoch``. Defaults to 4.0.
        end (float): Weight from ``end_epoch`` on. Defaults to 1.0.
        begin_epoch (int, optional): First epoch of the decay (0-based).
            Defaults to the first epoch of the KD stage of
            :class:`FitNetsTrainLoop` (else 0).
        end_epoch (int, optional): Epoch from which lambda is ``end``.
            Defaults to the end of training.
        stage_relative (bool): Count ``begin_epoch`` and ``end_epoch`` from
            the first KD epoch (as the original, whose stage 2 is its own
            run), so they follow ``hint_epochs``. Defaults to False
            (absolute epochs).
        by_epoch (bool): Step once per epoch instead of every iteration.
            Defaults to False.
        attr (str): The attribute to set. Defaults to ``'loss_weight'``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 loss_names: Union[str, Sequence[str]] = 'loss_kd',
                 start: float = 4.0,
                 end: float = 1.0,
                 begin_epoch: Optional[int] = None,
                 end_epoch: Optional[int] = None,
                 stage_relative: bool = False,
                 by_epoch: bool = False,
                 attr: str = 'loss_weight') -> None:
        self.loss_names = [loss_names] if isinstance(loss_names, str) else \
            list(loss_names)
        if not self.loss_names:
            raise ValueError('`loss_names` must name at least one loss.')
        self.start = float(start)
        self.end = float(end)
        self.begin_epoch = begin_epoch
        self.end_epoch = end_epoch
        self.stage_relative = stage_relative
        self.by_epoch = by_epoch
        self.attr = attr
        self._losses: List[Any] = []
        self._kd_begin = 0  # first KD epoch
        self._epochs = (0, 1)  # epochs [begin, end) of the decay
        self._iters_per_epoch = 1

    def before_train(self, runner: Any) -> None:
        """Resolve the span and check it lies in the KD stage."""
        loop = runner.train_loop
        max_epochs = loop.max_epochs
        kd_begin = getattr(loop, 'hint_epochs', 0)
        kd_begin = sum(kd_begin) if isinstance(kd_begin, (list, tuple)) \
            else kd_begin
        self._kd_begin = kd_begin
        self._losses = []
        if kd_begin >= max_epochs:
            runner.logger.info(
                f'LossWeightScheduleHook: no KD stage (epochs [{kd_begin}, '
                f'{max_epochs})), so {self.loss_names} are left alone.')
            return
        offset = kd_begin if self.stage_relative else 0
        begin = kd_begin if self.begin_epoch is None else \
            self.begin_epoch + offset
        end = max_epochs if self.end_epoch is None else \
            self.end_epoch + offset
        if not kd_begin <= begin < end:
            raise ValueError(
                f'The lambda schedule of {self.loss_names} spans epochs '
                f'[{begin}, {end}), but the KD stage is epochs [{kd_begin}, '
                f'{max_epochs}); expected {kd_begin} <= begin_epoch < '
                f'end_epoch{" (absolute epochs)" if offset else ""}.')
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
        self._iters_per_epoch = len(loop.dataloader)
        self._epochs = (begin, end)

    def value_at(self, iteration: int) -> float:
        """Lambda at the 0-based global ``iteration``."""
        begin, end = self._epochs
        if self.by_epoch:
            epoch = iteration // self._iters_per_epoch
            if epoch < begin:
                return self.start
            progress = min((epoch - begin + 1) / (end - begin + 1), 1.0)
        else:
            first = begin * self._iters_per_epoch
            steps = max((end - begin) * self._iters_per_epoch - 1, 1)
            progress = min(max((iteration - first) / steps, 0.0), 1.0)
        return self.start + (self.end - self.start) * progress

    def before_train_epoch(self, runner: Any) -> None:
        """Resolve the span again when stage 1 ended early."""
        kd_begin = getattr(runner.train_loop, 'hint_epochs', 0)
        if isinstance(kd_begin, int) and kd_begin != self._kd_begin:
            self.before_train(runner)

    def before_train_iter(self,
                          runner: Any,
                          batch_idx: int,
                          data_batch: Any = None) -> None:
        """In the KD stage, set the weights for this iteration and log
        them."""
        if not self._losses or runner.epoch < self._kd_begin:
            return
        value = self.value_at(runner.iter)
        for name, loss in zip(self.loss_names, self._losses):
            setattr(loss, self.attr, value)
            runner.message_hub.update_scalar(f'train/lambda_{name}', value)
