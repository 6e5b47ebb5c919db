"""LossWeightScheduleHook: lambda decays linearly from 4 to 1 over stage 2."""
import pytest
from mmengine.hooks import Hook

from utils import toy_models as tm

from fitnets_mm.engine.hooks import LossWeightScheduleHook  # noqa: E402


# hint 1 epoch + KD 3 epochs, 2 iterations an epoch: iterations 0-1 are
# stage 1, 2-7 stage 2. lambda(t) = 4 - 3 * (t - 2) / 5 over the KD stage.
EXPECTED = [4.0, 4.0, 4.0, 3.4, 2.8, 2.2, 1.6, 1.0]


class LossWeightSpy(Hook):
    """Record the weight the KD loss module holds during each iteration."""

    priority = 'LOWEST'

    def __init__(self):
        self.weights = []
        self.hub_values = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        loss = runner.model.distiller.distill_losses['loss_kd']
        self.weights.append(loss.loss_weight)
        scalar = runner.message_hub.log_scalars.get('train/lambda_loss_kd')
        self.hub_values.append(None if scalar is None else scalar.current())


def run(tmp_path, hook_cfg=None, hint_epochs=1, kd_epochs=3):
    spy = LossWeightSpy()
    record = tm.RecordHook()
    runner = tm.build_runner(
        work_dir=str(tmp_path),
        hint_epochs=hint_epochs,
        kd_epochs=kd_epochs,
        custom_hooks=[
            hook_cfg or dict(type='LossWeightScheduleHook'), spy, record
        ])
    hook = next(h for h in runner.hooks
                if isinstance(h, LossWeightScheduleHook))
    return runner, hook, spy, record


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    runner, hook, spy, record = run(tmp_path_factory.mktemp('lambda'))
    runner.train()
    return runner, hook, spy, record


def test_value_at_is_linear_over_the_kd_stage(trained):
    _, hook, _, _ = trained
    assert hook.value_at(2) == 4.0  # first KD iteration
    assert hook.value_at(7) == 1.0  # last iteration
    assert hook.value_at(4) == pytest.approx(2.8)  # 4 - 3 * 2 / 5
    assert [hook.value_at(i) for i in range(8)] == pytest.approx(EXPECTED)
    # before the span: start; after it: end
    assert hook.value_at(0) == 4.0 and hook.value_at(100) == 1.0


def test_loss_module_holds_lambda_each_iteration(trained):
    _, _, spy, record = trained
    assert spy.weights == pytest.approx(EXPECTED)
    # the value was set before the iteration ran, not after it
    assert [i['loss_weight'] for i in record.iters] == pytest.approx(EXPECTED)
    stages = [i['stage'] for i in record.iters]
    assert stages == ['hint'] * 2 + ['kd'] * 6
    # during stage 1 lambda stays at its start value
    assert all(w == 4.0 for w, s in zip(spy.weights, stages) if s == 'hint')


def test_lambda_is_logged_in_the_message_hub(trained):
    runner, _, spy, _ = trained
    assert 'train/lambda_loss_kd' in runner.message_hub.log_scalars
    # logged only while in force: not in the hint stage
    assert spy.hub_values[:2] == [None, None]
    assert spy.hub_values[2:] == pytest.approx(EXPECTED[2:])
    assert runner.message_hub.get_scalar(
        'train/lambda_loss_kd').current() == pytest.approx(1.0)


def test_explicit_span_and_values(tmp_path):
    runner, hook, spy, _ = run(
        tmp_path,
        dict(
            type='LossWeightScheduleHook',
            loss_names=['loss_kd'],
            start=2.0,
            end=0.0,
            begin_epoch=2,
            end_epoch=3))
    runner.train()
    # stage 1 leaves the configured 4; iterations 4-5 span the schedule:
    # 2 -> 0; after it 0
    assert spy.weights == pytest.approx([4, 4, 2, 2, 2, 0, 0, 0])


def test_begin_epoch_and_saturation_past_the_end(tmp_path):
    """Held at ``start`` until ``begin_epoch`` (KD stage relative), then
    linear towards ``end`` reached at ``end_epoch``, past training."""
    runner, hook, spy, _ = run(
        tmp_path,
        dict(type='LossWeightScheduleHook', start=4.0, end=0.0,
             begin_epoch=1, end_epoch=5, stage_relative=True))
    runner.train()
    # KD epochs 1-3 are absolute 1-3; decay spans absolute [2, 6): 8 iters,
    # lambda(t) = 4 - 4 * (t - 4) / 7
    assert spy.weights[2:] == pytest.approx(
        [4, 4, 4, 4 - 4 / 7, 4 - 8 / 7, 4 - 12 / 7])
    assert hook.value_at(11) == 0.0 and hook.value_at(100) == 0.0


def test_by_epoch_matches_teacher_decay_over_epoch(tmp_path):
    """The authors' TeacherDecayOverEpoch(start=1, saturate=3, final=1)
    from 4 in a stage 2 of 3 epochs: 4, then 4 - 1 * 3 / 3, then 1."""
    runner, _, spy, _ = run(
        tmp_path,
        dict(type='LossWeightScheduleHook', start=4.0, end=1.0,
             begin_epoch=1, end_epoch=3, stage_relative=True,
             by_epoch=True))
    runner.train()
    # step = (4 - 1) / (3 - 1 + 1) = 1: epoch c=1 -> 3, c=2 -> 2
    assert spy.weights[2:] == pytest.approx([4, 4, 3, 3, 2, 2])


def test_no_kd_stage_leaves_the_losses_alone(tmp_path):
    """kd_epochs=0 with the default hook trains (issue 13, item 9)."""
    runner, _, spy, record = run(tmp_path, hint_epochs=2, kd_epochs=0)
    runner.train()
    assert [i['stage'] for i in record.iters] == ['hint'] * 4
    assert spy.weights == [4.0] * 4
    assert 'train/lambda_loss_kd' not in runner.message_hub.log_scalars
    assert 'no KD stage' in tm.read_log(runner)


@pytest.mark.parametrize('kwargs', [
    dict(begin_epoch=0),
    dict(begin_epoch=3, end_epoch=3),
    dict(begin_epoch=0, stage_relative=True, end_epoch=0),
])
def test_schedule_outside_the_kd_stage_raises_before_training(
        tmp_path, kwargs):
    runner, _, spy, record = run(
        tmp_path, dict(type='LossWeightScheduleHook', **kwargs))
    with pytest.raises(ValueError, match=r'KD stage is epochs \[1, 4\)'):
        runner.train()
    assert spy.weights == [] and record.iters == []


def test_unknown_loss_name_lists_available_losses(tmp_path):
    runner, _, _, record = run(
        tmp_path, dict(type='LossWeightScheduleHook', loss_names='loss_ce'))
    with pytest.raises(KeyError, match="loss_ce.*'loss_kd'"):
        runner.train()
    assert record.iters == []


def test_empty_loss_names_raise():
    with pytest.raises(ValueError, match='loss_names'):
        LossWeightScheduleHook(loss_names=[])
