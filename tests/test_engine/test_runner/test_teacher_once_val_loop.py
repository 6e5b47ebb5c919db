"""TeacherOnceValLoop: the student every validation, the teacher once."""
from collections import Counter

import pytest

from utils import toy_models as tm

from fitnets_mm.engine.runner import TeacherOnceValLoop  # noqa: E402


VAL_BATCHES = 2  # 8 images in batches of 4


def count_modes(net, counter: Counter):
    """Count ``net``'s forward calls per ``mode``."""

    def hook(module, args, kwargs):
        counter[kwargs.get('mode', 'tensor')] += 1

    net.register_forward_pre_hook(hook, with_kwargs=True)


def validate_run(tmp_path, **val_cfg):
    runner = tm.build_runner(
        work_dir=str(tmp_path),
        hint_epochs=1,
        kd_epochs=2,
        train_cfg=dict(
            type='FitNetsTrainLoop', hint_epochs=1, kd_epochs=2,
            val_interval=1),
        val_dataloader=tm.dataloader_cfg(),
        val_evaluator=dict(type='mmpretrain.Accuracy', topk=(1, )),
        val_cfg=dict(type='TeacherOnceValLoop', **val_cfg))
    teacher_calls, student_calls = Counter(), Counter()
    count_modes(runner.model.teacher, teacher_calls)
    count_modes(runner.model.student, student_calls)
    runner.train()
    return runner, teacher_calls, student_calls


@pytest.fixture(scope='module')
def three_validations(tmp_path_factory):
    return validate_run(tmp_path_factory.mktemp('val'))


def test_teacher_evaluated_once_student_every_time(three_validations):
    runner, teacher_calls, student_calls = three_validations
    assert isinstance(runner.val_loop, TeacherOnceValLoop)
    assert teacher_calls['predict'] == VAL_BATCHES
    assert student_calls['predict'] == 3 * VAL_BATCHES


def test_teacher_metrics_logged_with_prefix(three_validations):
    runner, _, _ = three_validations
    metrics = runner.val_loop.teacher_metrics
    assert set(metrics) == {'accuracy/top1'}
    assert 0 <= metrics['accuracy/top1'] <= 100
    log = tm.read_log(runner)
    assert log.count('teacher/accuracy/top1') == 1
    assert f"teacher/accuracy/top1: {metrics['accuracy/top1']:.4f}" in log
    # the student's metrics are reported at every validation, unprefixed
    assert len([line for line in log.splitlines()
                if 'Epoch(val)' in line and 'accuracy/top1' in line]) == 3
    hub = runner.message_hub.get_scalar('val/accuracy/top1')
    assert len(hub.data[0]) == 3
    assert 'val/teacher/accuracy/top1' not in runner.message_hub.log_scalars


def test_teacher_can_be_left_out(tmp_path):
    runner, teacher_calls, student_calls = validate_run(
        tmp_path, evaluate_teacher=False)
    assert teacher_calls['predict'] == 0
    assert student_calls['predict'] == 3 * VAL_BATCHES
    assert runner.val_loop.teacher_metrics is None
    assert 'teacher/' not in tm.read_log(runner)
