"""Guarantee 3: the teacher is never changed.

Over a full two-stage run (1 hint + 1 KD epoch) the teacher's parameters and
BatchNorm buffers (a ResNet teacher with non-trivial running statistics)
stay bitwise identical to the loaded ``teacher_ckpt``: in one process, with
mixed precision, and with two processes (Gloo). A control run without the
protection shows that the same run would move them. The student
export holds no teacher or regressor weights.

Protections: MMRazor's ``SingleTeacherDistill`` (``requires_grad=False``,
teacher forward under ``no_grad``) and ``FitNetsDistill.train`` (the frozen
teacher kept wholly in eval mode, so BatchNorm statistics never update);
``fitnets_mm.export`` for the export.
"""
import runpy
import sys
from pathlib import Path
from typing import Any, Dict

from utils import reliability as H
import pytest
import torch
from mmengine.runner import Runner
from mmpretrain.registry import MODELS as CLS_MODELS
from torch import nn

from fitnets_mm.models.algorithms import FitNetsDistill


def _teacher_state(teacher_ckpt: str) -> Dict[str, torch.Tensor]:
    return torch.load(teacher_ckpt, weights_only=True)['state_dict']


def _train(tmp_path: Path, teacher_ckpt: str, **cfg: Any) -> Runner:
    config = H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt,
                           hint_epochs=1, kd_epochs=1, **cfg)
    config.experiment_name = f'frozen_{tmp_path.name}'
    runner = Runner.from_cfg(config)
    runner.train()
    return runner


#: The BatchNorm buffers of the ResNet teacher, which a teacher forward in
#: training mode would update.
BN_BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked')


def _assert_has_bn_buffers(state: Dict[str, torch.Tensor]) -> None:
    for buffer in BN_BUFFERS:
        assert sum(k.endswith(buffer) for k in state) >= 10, buffer


def _assert_teacher_unchanged(runner: Runner, teacher_ckpt: str,
                              what: str) -> None:
    expected = _teacher_state(teacher_ckpt)
    _assert_has_bn_buffers(expected)
    H.assert_bitwise_equal(
        {k: v.cpu() for k, v in runner.model.teacher.state_dict().items()},
        expected, what)
    # ... and in the checkpoint of each stage.
    work_dir = Path(runner.work_dir)
    for epoch in (1, 2):
        state = H.checkpoint_state(str(work_dir / f'epoch_{epoch}.pth'))
        H.assert_bitwise_equal(
            {k[len('teacher.'):]: v for k, v in state.items()
             if k.startswith('teacher.')}, expected,
            f'{what}, teacher in epoch_{epoch}.pth')


def test_teacher_unchanged_fp32(tmp_path: Path, teacher_ckpt: str) -> None:
    runner = _train(tmp_path, teacher_ckpt)
    assert runner.model.stage == 'kd'
    _assert_teacher_unchanged(runner, teacher_ckpt, 'teacher (fp32)')


def test_bn_buffers_move_without_the_protection(
        tmp_path: Path, teacher_ckpt: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: with the teacher left in training mode (MMRazor's and
    FitNetsDistill's ``train`` bypassed), the same run changes the
    teacher's BatchNorm statistics, so the checks above can fail."""
    monkeypatch.setattr(FitNetsDistill, 'train',
                        lambda self, mode=True: nn.Module.train(self, mode))
    runner = _train(tmp_path, teacher_ckpt)
    expected = _teacher_state(teacher_ckpt)
    actual = runner.model.teacher.state_dict()
    moved = {b for k, v in expected.items() for b in BN_BUFFERS
             if k.endswith(b) and not torch.equal(actual[k].cpu(), v)}
    assert moved == set(BN_BUFFERS)
    params = dict(runner.model.teacher.named_parameters())
    assert all(torch.equal(p.detach().cpu(), expected[k])
               for k, p in params.items())  # frozen weights stay


def test_teacher_unchanged_amp(tmp_path: Path, teacher_ckpt: str) -> None:
    """mmengine's ``AmpOptimWrapper`` (bfloat16) where it can run."""
    try:
        runner = _train(
            tmp_path, teacher_ckpt,
            optim_wrapper=dict(type='AmpOptimWrapper', dtype='bfloat16'))
    except AssertionError as err:
        if torch.cuda.is_available():
            raise
        pytest.skip(f'AmpOptimWrapper does not run on this machine: {err}')
    _assert_teacher_unchanged(runner, teacher_ckpt, 'teacher (AMP)')


def test_teacher_unchanged_cpu_autocast(tmp_path: Path,
                                        teacher_ckpt: str) -> None:
    """Mixed precision on a CPU: the forward under bfloat16 autocast."""
    runner = _train(tmp_path, teacher_ckpt,
                    optim_wrapper=dict(type='CPUAutocastOptimWrapper'),
                    device='cpu')
    _assert_teacher_unchanged(runner, teacher_ckpt,
                              'teacher (bfloat16 autocast)')


def test_teacher_unchanged_two_processes(dist_run: dict,
                                         teacher_ckpt: str) -> None:
    assert dist_run['rc'] == 0, dist_run['output'][-5000:]
    expected = _teacher_state(teacher_ckpt)
    _assert_has_bn_buffers(expected)
    for rank in (0, 1):
        state = torch.load(str(dist_run['work_dir'] / f'rank{rank}.pth'),
                           weights_only=True)
        H.assert_bitwise_equal(state['teacher'], expected,
                               f'teacher of rank {rank}')


def test_student_export_has_no_teacher(dist_run: dict, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    """``tools/model_converters/fitnets_to_student.py`` on the final
    checkpoint writes the student alone, loadable by a plain classifier."""
    assert dist_run['rc'] == 0, dist_run['output'][-5000:]
    src = dist_run['work_dir'] / 'epoch_2.pth'
    dst = tmp_path / 'student.pth'
    tool = Path(H.REPO, 'tools', 'model_converters', 'fitnets_to_student.py')
    monkeypatch.setattr(sys, 'argv', [str(tool), str(src), str(dst)])
    runpy.run_path(str(tool), run_name='__main__')

    exported = torch.load(str(dst), weights_only=True)['state_dict']
    assert not [k for k in exported
                if k.startswith(('teacher.', 'regressors.', 'distiller.'))]
    student = CLS_MODELS.build(H.classifier(H.STUDENT_WIDTH))
    assert sorted(exported) == sorted(student.state_dict())
    student.load_state_dict(exported, strict=True)
    full = H.checkpoint_state(str(src))
    assert [k for k in full if k.startswith('teacher.')], \
        'the training checkpoint should hold the teacher'
    H.assert_bitwise_equal(
        exported, {k[len('architecture.'):]: v for k, v in full.items()
                   if k.startswith('architecture.')}, 'exported student')
