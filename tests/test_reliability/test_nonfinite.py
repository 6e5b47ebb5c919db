"""Guarantee 5: non-finite losses and weights.

If ``L_HT``, the KD loss or the total becomes NaN/Inf, training stops with a
:class:`NonFiniteLossError` naming the loss, the stage and the iteration, and
the last good checkpoint on disk stays loadable and finite. Weights that
become non-finite are never saved: :class:`FiniteWeightsGuardHook` stops the
run before ``CheckpointHook`` deletes or writes anything.

Protections: :class:`fitnets_mm.engine.hooks.FiniteLossGuardHook` and
:class:`fitnets_mm.engine.hooks.FiniteWeightsGuardHook`, which
``FitNetsTrainLoop`` adds to every run.
"""
import math
from pathlib import Path
from typing import Any

from utils import reliability as H
import pytest
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from mmengine.runner import Runner
from mmrazor.models.losses import KDSoftCELoss
from mmrazor.registry import MODELS

from fitnets_mm.fileio import safe_load
from fitnets_mm.engine.hooks import (FiniteWeightsGuardHook,
                                     NonFiniteLossError,
                                     NonFiniteWeightsError)
from fitnets_mm.models.losses import HintLoss


class _BreaksAfter:
    """Mixin: from call ``after + 1`` on, the loss is multiplied by
    ``value`` (NaN or Inf)."""

    def _break(self, loss: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return loss * self.value if self.calls > self.after else loss


@MODELS.register_module(force=True)
class HintLossBreaksAfter(_BreaksAfter, HintLoss):
    """``HintLoss`` that becomes non-finite after ``after`` calls."""

    def __init__(self, after: int, value: float = math.nan,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.after, self.value, self.calls = after, value, 0

    def forward(self, s_feature: torch.Tensor,
                t_feature: torch.Tensor) -> torch.Tensor:
        return self._break(super().forward(s_feature, t_feature))


@MODELS.register_module(force=True)
class KDLossBreaksAfter(_BreaksAfter, KDSoftCELoss):
    """``KDSoftCELoss`` that becomes non-finite after ``after`` calls."""

    def __init__(self, after: int, value: float = math.inf,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.after, self.value, self.calls = after, value, 0

    def forward(self, preds_S: torch.Tensor,
                preds_T: torch.Tensor) -> torch.Tensor:
        return self._break(super().forward(preds_S, preds_T))


@HOOKS.register_module(force=True)
class PoisonWeightsHook(Hook):
    """At the end of epoch ``epoch`` (1-based), set one student weight to
    Inf, as an overflowing update would, without a non-finite loss."""

    priority = 'HIGH'

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch

    def after_train_epoch(self, runner: Any) -> None:
        if runner.epoch + 1 == self.epoch:
            with torch.no_grad():
                runner.model.student.backbone.conv1.weight[0, 0, 0, 0] = \
                    math.inf


def _run(tmp_path: Path, teacher_ckpt: str, **cfg: Any) -> Runner:
    config = H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt, **cfg)
    config.experiment_name = f'nonfinite_{tmp_path.name}'
    return Runner.from_cfg(config)


def _assert_good_checkpoint_kept(work_dir: Path, good: str,
                                 absent: str) -> None:
    """``good`` is what ``last_checkpoint`` names, loads, and is finite;
    ``absent`` was never written."""
    assert (work_dir / 'last_checkpoint').read_text().strip() == \
        str(work_dir / good)
    checkpoint = safe_load(str(work_dir / good), map_location='cpu')
    bad = [k for k, v in checkpoint['state_dict'].items()
           if v.is_floating_point() and not torch.isfinite(v).all()]
    assert bad == []
    assert not (work_dir / absent).exists()
    assert not list(work_dir.glob('.*.tmp.*'))


def test_nan_hint_loss_stops_training(tmp_path: Path,
                                      teacher_ckpt: str) -> None:
    # 4 iterations per epoch: L_HT is NaN at iteration 6 (epoch 2, stage 1).
    runner = _run(
        tmp_path, teacher_ckpt, hint_epochs=2, kd_epochs=1,
        hints=[dict(student='backbone.layer2', teacher='backbone.layer2',
                    loss=dict(type='HintLossBreaksAfter', after=5))])
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    work_dir = tmp_path / 'work'
    for part in ('hint.loss_ht', "stage 'hint'", 'iteration 6',
                 f'--resume {work_dir / "epoch_1.pth"} --reset-lr'):
        assert part in message, f'{part!r} not in {message}'
    assert '\n' not in message
    # Stopped before the update: the weights in memory are finite too.
    assert FiniteWeightsGuardHook.first_non_finite(
        runner.model.state_dict()) is None
    _assert_good_checkpoint_kept(tmp_path / 'work', 'epoch_1.pth',
                                 'epoch_2.pth')


def test_inf_kd_loss_stops_training(tmp_path: Path,
                                    teacher_ckpt: str) -> None:
    # The KD loss is Inf at its 3rd call: iteration 7 (epoch 2, stage 2).
    runner = _run(
        tmp_path, teacher_ckpt, hint_epochs=1, kd_epochs=1,
        **{'model.distiller.distill_losses.loss_kd.type': 'KDLossBreaksAfter',
           'model.distiller.distill_losses.loss_kd.after': 2})
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    message = str(err.value)
    for part in ('distill.loss_kd', "'loss'", "stage 'kd'", 'iteration 7'):
        assert part in message, f'{part!r} not in {message}'
    _assert_good_checkpoint_kept(tmp_path / 'work', 'epoch_1.pth',
                                 'epoch_2.pth')


def test_non_finite_weights_are_never_saved(tmp_path: Path,
                                            teacher_ckpt: str) -> None:
    """Weights go Inf at the end of epoch 2 with finite losses. With
    ``max_keep_ckpts=1`` mmengine would delete epoch_1.pth before writing
    epoch_2.pth; the guard stops the run before either."""
    runner = _run(
        tmp_path, teacher_ckpt, hint_epochs=1, kd_epochs=1,
        custom_hooks=[dict(type='mmrazor.FiniteWeightsGuardHook'),
                      dict(type='PoisonWeightsHook', epoch=2)],
        **{'default_hooks.checkpoint.max_keep_ckpts': 1})
    with pytest.raises(NonFiniteWeightsError) as err:
        runner.train()
    message = str(err.value)
    for part in ('architecture.backbone.conv1.weight', "stage 'kd'",
                 'iteration 8', '1 Inf'):
        assert part in message, f'{part!r} not in {message}'
    _assert_good_checkpoint_kept(tmp_path / 'work', 'epoch_1.pth',
                                 'epoch_2.pth')


def test_guard_checks_the_saved_state(tmp_path: Path,
                                      teacher_ckpt: str) -> None:
    """``before_save_checkpoint`` refuses a non-finite state even when the
    weights were fine at the end of the epoch (e.g. swapped in by EMA)."""
    runner = _run(tmp_path, teacher_ckpt)
    hook = FiniteWeightsGuardHook()
    state = {'architecture.head.fc.bias': torch.tensor([0.0, math.nan])}
    with pytest.raises(NonFiniteWeightsError, match='head.fc.bias'):
        hook.before_save_checkpoint(
            runner, dict(meta=dict(iter=3), state_dict=state))
    hook.before_save_checkpoint(
        runner, dict(state_dict={'w': torch.zeros(2)}))
    with pytest.raises(TypeError, match="got 'yes'"):
        FiniteWeightsGuardHook(check_optimizer='yes')
