"""Guarantee 4: a bad configuration gets one clear error before iteration 1.

Each case builds the runner and starts training; the error must come before
the first ``train_step`` (none ran, no ``Epoch(train)`` line was logged) and
say what it received and what it expected.

Protections: ``FitNetsDistill`` (hint paths, regressor shapes, class counts,
strict ``teacher_ckpt``), ``FitNetsTrainLoop`` (stage lengths, hints for a
hint stage) and ``LossWeightScheduleHook`` (the lambda schedule's span).
"""
from pathlib import Path
from typing import Any, Dict, List

from utils import reliability as H
import pytest
import torch
from mmengine.runner import Runner
from mmpretrain.registry import MODELS as CLS_MODELS

from fitnets_mm.fileio import CorruptCheckpointError
from fitnets_mm.models.algorithms import FitNetsDistill


def _files(tmp_path: Path, teacher_ckpt: str) -> Dict[str, str]:
    """Checkpoints the cases refer to."""
    truncated = tmp_path / 'truncated.pth'
    data = Path(teacher_ckpt).read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    student = tmp_path / 'student.pth'
    torch.save(dict(state_dict=CLS_MODELS.build(
        H.classifier(H.STUDENT_WIDTH)).state_dict()), str(student))
    five = H.make_teacher_ckpt(str(tmp_path / 'teacher5.pth'), num_classes=5)
    return dict(truncated=str(truncated), student=str(student),
                teacher5=five, missing=str(tmp_path / 'no_such_teacher.pth'),
                folder=str(tmp_path))


def _hint(student: str, teacher: str) -> List[dict]:
    return [dict(student=student, teacher=teacher)]


#: name -> (fitnets_cfg arguments, error type, parts the message must hold:
#: what was received, then what was expected).
CASES: Dict[str, tuple] = {
    'unknown guided path': (
        dict(hints=_hint('backbone.layer22', 'backbone.layer2')), KeyError,
        ["'backbone.layer22'", 'student (guided) layer',
         "Closest existing paths: ['backbone.layer2'"]),
    'unknown hint path': (
        dict(hints=_hint('backbone.layer2', 'backbone.layr2')), KeyError,
        ["'backbone.layr2'", 'teacher (hint) layer',
         "Closest existing paths: ['backbone.layer2'"]),
    'regressor cannot map shapes': (
        dict(hints=_hint('head.fc', 'backbone.layer2')), ValueError,
        ['head.fc -> backbone.layer2', '(1, 10)', '(1, 16, 4, 4)',
         'both must be maps']),
    'class mismatch with KD loss': (
        dict(teacher_ckpt='teacher5',
             **{'model.teacher.head.num_classes': 5}), ValueError,
        ['student predicts 10 classes', 'teacher 5', 'loss_kd',
         'expected the same number of classes']),
    'missing teacher_ckpt': (
        dict(teacher_ckpt='missing'), FileNotFoundError,
        ['no_such_teacher.pth', 'does not exist', 'expected a checkpoint']),
    'teacher_ckpt is a directory': (
        dict(teacher_ckpt='folder'), IsADirectoryError,
        ['is a directory', 'expected a checkpoint file']),
    'hint layer the forward never calls': (
        dict(hints=_hint('backbone.layer2', 'head.loss_module')),
        RuntimeError,
        ["['head.loss_module']", 'not called',
         'name modules that the forward actually runs']),
    'corrupt teacher_ckpt': (
        dict(teacher_ckpt='truncated'), CorruptCheckpointError,
        ['truncated.pth', 'truncated']),
    'mismatching teacher_ckpt': (
        dict(teacher_ckpt='student'), KeyError,
        ['student.pth', 'does not fit the teacher',
         'backbone.conv1.weight: checkpoint (4, 3, 3, 3) vs teacher '
         '(8, 3, 3, 3)']),
    'negative stage length': (
        dict(hint_epochs=-1), ValueError,
        ['got -1', '`hint_epochs` must be an int >= 0']),
    'both stage lengths zero': (
        dict(hint_epochs=0, kd_epochs=0), ValueError,
        ['both 0', 'expected at least one epoch']),
    'hint stage without hints': (
        dict(hints=[], hint_epochs=1), ValueError,
        ['`hint_epochs=1`', 'no hint pairs', 'set `hint_epochs=0`']),
    'lambda schedule outside the KD stage': (
        dict(custom_hooks=[dict(type='mmrazor.LossWeightScheduleHook',
                                loss_names='loss_kd', begin_epoch=0)]),
        ValueError,
        ['spans epochs [0, 2)', 'KD stage is epochs [1, 2)',
         'expected 1 <= begin_epoch']),
}

#: name -> advice the message must not give (it would not help).
ABSENT: Dict[str, List[str]] = {
    'hint layer the forward never calls': ['input_shape'],
}


@pytest.mark.parametrize('case', list(CASES))
def test_bad_config_fails_before_iteration_1(
        case: str, tmp_path: Path, teacher_ckpt: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    options, error, parts = CASES[case]
    options = dict(options)
    ckpt = options.pop('teacher_ckpt', None)
    ckpt = _files(tmp_path, teacher_ckpt)[ckpt] if ckpt else teacher_ckpt
    steps: List[Any] = []
    train_step = FitNetsDistill.train_step

    def counting_train_step(self: FitNetsDistill, *args: Any,
                            **kwargs: Any) -> Any:
        steps.append(1)
        return train_step(self, *args, **kwargs)

    monkeypatch.setattr(FitNetsDistill, 'train_step', counting_train_step)
    work_dir = tmp_path / 'work'
    options.setdefault('hint_epochs', 1)
    options.setdefault('kd_epochs', 1)
    config = H.fitnets_cfg(str(work_dir), ckpt, **options)
    config.experiment_name = f'config_error_{tmp_path.name}'

    with pytest.raises(error) as err:
        Runner.from_cfg(config).train()

    message = str(err.value)
    for part in parts:
        assert part in message, f'{case}: {part!r} not in {message}'
    for part in ABSENT.get(case, []):
        assert part not in message, f'{case}: {part!r} in {message}'
    assert steps == [], f'{case}: training started before the error'
    assert 'Epoch(train)' not in H.log_text(str(work_dir))
    assert not list(work_dir.glob('*.pth'))

