"""FSPDistill: FSP pairs (and FitNets hints) as the stage-1 objective."""
from typing import Dict

import pytest
import torch
from mmengine.optim import OptimWrapper

from utils import toy_models as tm

from fitnets_mm.models.algorithms import FSPDistill
from fitnets_mm.models.losses import FSPLoss
from mmrazor.registry import MODELS  # noqa: I100

# One pair in the toy ResNet-18's second stage: the output of its first
# block and the stage's output (8 x 8 maps; 4 student and 8 teacher
# channels, hence a connector).
LAYER2 = dict(
    student=('backbone.layer2.0', 'backbone.layer2'),
    teacher=('backbone.layer2.0', 'backbone.layer2'),
    connector=dict())
LAYER1 = dict(
    student=('backbone.layer1.0', 'backbone.layer1'),
    teacher=('backbone.layer1.0', 'backbone.layer1'),
    connector=dict())
STUDENT_UP_TO_LAYER2 = ('backbone.conv1', 'backbone.bn1', 'backbone.layer1',
                        'backbone.layer2')
PAST = ('backbone.layer3', 'backbone.layer4', 'neck', 'head')


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    with tm.one_thread():
        yield


def fsp_cfg(fsp_pairs=(LAYER2, ), hints=(), **kwargs) -> Dict:
    cfg = tm.fitnets_cfg(hints=list(hints), **kwargs)
    cfg.update(type='FSPDistill', fsp_pairs=list(fsp_pairs))
    return cfg


def build(**kwargs) -> FSPDistill:
    torch.manual_seed(0)
    return MODELS.build(fsp_cfg(**kwargs))


def inputs(model, n: int = 4, seed: int = 0):
    data = model.data_preprocessor(tm.batch(n, seed), True)
    return data['inputs'], data['data_samples']


def under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + '.') for p in prefixes)


def count_calls(model, paths) -> Dict[str, int]:
    calls: Dict[str, int] = {}
    for net_name in ('student', 'teacher'):
        for path in paths:
            key = f'{net_name}.{path}'
            calls[key] = 0
            getattr(model, net_name).get_submodule(path).register_forward_hook(
                lambda *a, key=key: calls.__setitem__(key, calls[key] + 1))
    return calls


def test_built_from_the_registry_with_a_stage_one():
    model = build()
    assert isinstance(model, FSPDistill)
    assert model.stage == 'hint'
    # FitNetsTrainLoop reads `hint_pairs` to know that a stage 1 exists
    assert model.hint_pairs == model.fsp_pairs and model.fitnets_hints == []
    assert len(model.regressors) == 0
    conv = model.fsp_connectors[0][0].layer
    assert (conv.in_channels, conv.out_channels, conv.kernel_size) == \
        (8, 16, (1, 1))
    model.set_stage('kd')
    model.set_stage('hint')


def test_fsp_stage_runs_nothing_past_its_last_pair():
    model = build()
    calls = count_calls(model, PAST + ('backbone.layer2', ))
    model.train()
    losses = model.loss(*inputs(model))
    assert set(losses) == {'fsp.loss_fsp'}
    assert losses['fsp.loss_fsp'].requires_grad
    # the hooks work: the last layer of the pair ran once in each network
    assert calls.pop('student.backbone.layer2') == 1
    assert calls.pop('teacher.backbone.layer2') == 1
    assert set(calls.values()) == {0}, calls


def test_fsp_loss_is_the_loss_of_the_recorded_maps():
    model = build()
    model.train()
    x, samples = inputs(model)
    value = model.loss(x, samples)['fsp.loss_fsp']
    with torch.no_grad():
        s1, s2 = tm.layer2_maps(model.student, x)
        t1, t2 = tm.layer2_maps(model.teacher, x)
        c1, c2 = model.fsp_connectors[0]
        expected = FSPLoss()(c1(s1), c2(s2), t1, t2)
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_fsp_stage_trains_only_the_student_up_to_the_pair_and_connectors():
    model = build()
    student = {k: v.clone() for k, v in model.student.state_dict().items()}
    teacher = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    connectors = {k: v.clone()
                  for k, v in model.fsp_connectors.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    model.train()
    logs = [model.train_step(tm.batch(4, seed=i), wrapper) for i in range(2)]
    assert all(set(log) == {'loss', 'fsp.loss_fsp'} for log in logs)
    for name, param in model.student.named_parameters():
        changed = not torch.equal(param, student[name])
        assert changed == under(name, STUDENT_UP_TO_LAYER2), name
    for name, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher[name]), name
    for name, value in model.fsp_connectors.state_dict().items():
        assert not torch.equal(value, connectors[name]), name


def test_several_pairs_and_hints_give_named_losses_in_one_forward():
    model = build(
        fsp_pairs=[LAYER1, LAYER2],
        hints=[dict(student='backbone.layer1', teacher='backbone.layer1')])
    assert len(model.hint_pairs) == 3 and len(model.fitnets_hints) == 1
    calls = count_calls(model, ('backbone.layer2', 'backbone.layer3'))
    model.train()
    losses = model.loss(*inputs(model))
    assert set(losses) == {'hint.loss_ht', 'fsp.loss_fsp0', 'fsp.loss_fsp1'}
    assert calls == {
        'student.backbone.layer2': 1, 'teacher.backbone.layer2': 1,
        'student.backbone.layer3': 0, 'teacher.backbone.layer3': 0}
    # the hint term is FitNets' L_HT of the regressed guided output
    x, _ = inputs(model)
    with torch.no_grad():
        b, t = model.student.backbone, model.teacher.backbone
        guided = b.layer1(b.relu(b.norm1(b.conv1(x))))
        hint = t.layer1(t.relu(t.norm1(t.conv1(x))))
        expected = 0.5 * (model.regressors[0](guided) - hint).pow(2).sum() / 4
    assert losses['hint.loss_ht'].item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_stage_two_without_distill_losses_is_the_task_loss_alone():
    model = build(distiller=dict(type='ConfigurableDistiller'))
    model.set_stage('kd')
    calls = count_calls(model, ('head', ))
    model.train()
    x, samples = inputs(model)
    losses = model.loss(x, samples)
    assert set(losses) == {'student.loss'}
    expected = model.student(x, samples, mode='loss')['loss']
    assert losses['student.loss'].item() == pytest.approx(expected.item())
    # the teacher is not run at all
    assert calls == {'student.head': 2, 'teacher.head': 0}


def test_stage_two_with_kd_is_fitnets_stage_two():
    model = build()
    model.set_stage('kd')
    model.train()
    losses = model.loss(*inputs(model))
    assert set(losses) == {'student.loss', 'distill.loss_kd'}


def test_channel_mismatch_without_connector_fails_at_build_time():
    pair = dict(LAYER2, connector=None)
    with pytest.raises(ValueError) as err:
        build(fsp_pairs=[pair])
    msg = str(err.value)
    assert msg.startswith('fsp_pairs[0]')
    assert 'student gives (8, 8)' in msg and 'teacher (16, 16)' in msg
    assert 'connector=dict()' in msg
    # networks of one width need no connector
    model = build(fsp_pairs=[pair], student_width=8)
    assert isinstance(model.fsp_connectors[0][0], torch.nn.Identity)


def test_size_mismatch_in_a_pair_fails_at_build_time_unless_pooled():
    across = dict(student=('backbone.layer1', 'backbone.layer2'),
                  teacher=('backbone.layer1', 'backbone.layer2'),
                  connector=dict())
    with pytest.raises(ValueError, match=r'fsp_pairs\[0\].*one spatial '
                       r"size.*pool='avg'"):
        build(fsp_pairs=[across])
    model = build(fsp_pairs=[dict(across, loss=dict(type='FSPLoss',
                                                    pool='avg'))])
    assert set(model.loss(*inputs(model))) == {'fsp.loss_fsp'}


@pytest.mark.parametrize('pair,match', [
    (dict(student='backbone.layer2', teacher=LAYER2['teacher']),
     'must name two layers'),
    (dict(LAYER2, weight=2), 'unknown keys'),
    (dict(teacher=LAYER2['teacher']), 'keys "student" and "teacher"'),
    (dict(LAYER2, student=('backbone.layer2.0', 'backbone.layr2')),
     'Closest existing paths'),
])
def test_malformed_pairs_are_rejected(pair, match):
    with pytest.raises((ValueError, KeyError), match=match):
        build(fsp_pairs=[pair])


def test_fitnets_train_loop_runs_both_stages(tmp_path):
    hook = tm.RecordHook()
    runner = tm.build_runner(
        work_dir=str(tmp_path), model=fsp_cfg(), hint_epochs=1,
        kd_epochs=1, custom_hooks=[hook])
    runner.train()
    assert [e['stage'] for e in hook.epochs] == ['hint', 'kd']
    log = tm.read_log(runner)
    lines = [ln for ln in log.splitlines() if 'Epoch(train)' in ln]
    assert lines and all(
        ('fsp.loss_fsp' in ln) == ('Epoch(train) [1]' in ln) for ln in lines)
    # the stages are labelled as FSP's (issue 20), not FitNets'
    assert 'FSP stage 1 (fsp) from epoch 1: stage epochs 1-1 of 2.' in log
    assert 'FSP stage 2 (kd) from epoch 2: stage epochs 2-2 of 2.' in log
    assert 'End of FSP stage 1 (fsp) at epoch 1: kept as ' \
        'hint_stage_last.pth' in log
    assert 'FitNets stage' not in log
    tm.reset_runner_state()


@pytest.mark.parametrize('hints,label', [
    ((), 'FSP stage 1 (fsp)'),
    ([dict(student='backbone.layer1', teacher='backbone.layer1')],
     'FitNets+FSP stage 1 (hint+fsp)'),
])
def test_stage_labels_say_what_each_stage_trains(tmp_path, hints, label):
    runner = tm.build_runner(
        work_dir=str(tmp_path),
        model=fsp_cfg(hints=hints,
                      distiller=dict(type='ConfigurableDistiller')),
        hint_epochs=1, kd_epochs=1)
    runner.train()
    log = tm.read_log(runner)
    assert f'{label} from epoch 1' in log
    assert f'{label.split(" stage")[0]} stage 2 (task loss) from epoch 2' \
        in log
    tm.reset_runner_state()
