"""FitNetsDistill: the two stages, what each trains, and build-time errors."""
import math
from typing import Dict, List

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmrazor.registry import MODELS

from utils import toy_models as tm

from fitnets_mm.models.algorithms import FitNetsDistill

GUIDED = 'backbone.layer2'
# Student modules before the guided layer (and the guided layer itself).
STUDENT_UP_TO_GUIDED = ('backbone.conv1', 'backbone.bn1', 'backbone.layer1',
                        'backbone.layer2')
PAST = ('backbone.layer3', 'backbone.layer4', 'neck', 'head')


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    with tm.one_thread():
        yield


def build(**kwargs) -> FitNetsDistill:
    torch.manual_seed(0)
    return MODELS.build(tm.fitnets_cfg(**kwargs))


@pytest.fixture
def model() -> FitNetsDistill:
    return build()


def inputs(model: FitNetsDistill, n: int = 4, seed: int = 0):
    data = model.data_preprocessor(tm.batch(n, seed), True)
    return data['inputs'], data['data_samples']


def sgd(model: FitNetsDistill, lr: float = 0.01) -> OptimWrapper:
    """SGD over every parameter of the model, the teacher's included."""
    return OptimWrapper(
        torch.optim.SGD(
            model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4))


def snapshot(module: torch.nn.Module) -> Dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def steps(model: FitNetsDistill, n: int = 3) -> List[Dict]:
    wrapper = sgd(model)
    model.train()
    return [model.train_step(tm.batch(4, seed=i), wrapper) for i in range(n)]


def under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + '.') for p in prefixes)


def test_built_from_the_registry(model):
    assert isinstance(model, FitNetsDistill)
    assert model.stage == 'hint'
    assert len(model.regressors) == 1
    # student layer2: 8 channels; teacher layer2: 16; both 8 x 8
    layer = model.regressors[0].layer
    assert (layer.in_channels, layer.out_channels) == (8, 16)
    assert layer.kernel_size == (3, 3)


# ---------------------------------------------------------------- stage 1
def test_hint_stage_runs_nothing_past_guided_and_hint_layers(model):
    calls = {}

    def counter(name):

        def hook(*args):
            calls[name] = calls.get(name, 0) + 1

        return hook

    for net_name in ('student', 'teacher'):
        net = getattr(model, net_name)
        for path in PAST + (GUIDED, ):
            net.get_submodule(path).register_forward_hook(
                counter(f'{net_name}.{path}'))
    model.train()
    losses = model.loss(*inputs(model))
    assert set(losses) == {'hint.loss_ht'}
    assert losses['hint.loss_ht'].requires_grad
    # the hooks work: the guided and hint layers ran once each
    assert calls.pop(f'student.{GUIDED}') == 1
    assert calls.pop(f'teacher.{GUIDED}') == 1
    assert calls == {}


def test_hint_loss_is_the_hint_loss_of_regressed_guided_output(model):
    model.train()
    x, samples = inputs(model)
    losses = model.loss(x, samples)
    with torch.no_grad():
        guided = model.student.backbone.layer2(
            model.student.backbone.layer1(
                model.student.backbone.relu(
                    model.student.backbone.norm1(
                        model.student.backbone.conv1(x)))))
        t = model.teacher.backbone
        hint = t.layer2(t.layer1(t.relu(t.norm1(t.conv1(x)))))
        s = model.regressors[0](guided)
    expected = 0.5 * (s - hint).pow(2).sum() / x.shape[0]
    assert torch.allclose(losses['hint.loss_ht'], expected, rtol=1e-5)


def test_hint_stage_trains_only_student_up_to_guided_and_regressor(model):
    student_before = snapshot(model.student)
    teacher_before = snapshot(model.teacher)
    reg_before = snapshot(model.regressors)
    logs = steps(model)
    assert all(set(log) == {'loss', 'hint.loss_ht'} for log in logs)

    for name, param in model.student.named_parameters():
        changed = not torch.equal(param, student_before[name])
        assert changed == under(name, STUDENT_UP_TO_GUIDED), name
    for name, buf in model.student.named_buffers():
        if under(name, PAST):
            assert torch.equal(buf, student_before[name]), name
    # the guided layer's BN statistics did move (train mode)
    assert not torch.equal(model.student.backbone.layer2[0].bn1.running_mean,
                           student_before['backbone.layer2.0.bn1.'
                                          'running_mean'])
    for name, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[name]), name
    for name, value in model.regressors.state_dict().items():
        assert not torch.equal(value, reg_before[name]), name


def test_several_hint_pairs_give_numbered_losses():
    model = build(hints=[
        dict(student='backbone.layer1', teacher='backbone.layer1'),
        dict(
            student='backbone.layer2',
            teacher='backbone.layer3',
            loss=dict(type='HintLoss', reduction='mean')),
    ])
    assert len(model.regressors) == 2
    # layer2 (8 x 8) -> teacher layer3 (4 x 4): stride-2 conv, 8 -> 32 ch
    layer = model.regressors[1].layer
    assert (layer.in_channels, layer.out_channels) == (8, 32)
    assert layer.stride == (2, 2)
    assert model.hint_losses[1].reduction == 'mean'
    ran = []
    model.student.backbone.layer3.register_forward_hook(
        lambda *a: ran.append('student.layer3'))
    model.teacher.backbone.layer4.register_forward_hook(
        lambda *a: ran.append('teacher.layer4'))
    model.train()
    losses = model.loss(*inputs(model))
    assert set(losses) == {'hint.loss_ht0', 'hint.loss_ht1'}
    assert ran == []


# ---------------------------------------------------------------- stage 2
def test_kd_stage_losses_and_frozen_regressor(model):
    model.set_stage('kd')
    assert model.stage == 'kd'
    model.train()
    assert set(model.loss(*inputs(model))) == {
        'student.loss', 'distill.loss_kd'
    }
    student_before = snapshot(model.student)
    teacher_before = snapshot(model.teacher)
    reg_before = snapshot(model.regressors)
    logs = steps(model)
    assert all(
        set(log) == {'loss', 'student.loss', 'distill.loss_kd'}
        for log in logs)
    for name, value in model.regressors.state_dict().items():
        assert torch.equal(value, reg_before[name]), name
    for name, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[name]), name
    # the whole student trains now, its head included
    for name, param in model.student.named_parameters():
        assert not torch.equal(param, student_before[name]), name


def _kd_by_hand(s: torch.Tensor, t: torch.Tensor, tau: float,
                weight: float) -> float:
    """weight * mean_n(-sum_c softmax(t / tau) * log_softmax(s / tau))."""
    total = 0.
    for s_row, t_row in zip(s.tolist(), t.tolist()):
        zs = math.log(sum(math.exp(v / tau) for v in s_row))
        zt = sum(math.exp(v / tau) for v in t_row)
        total -= sum(
            math.exp(b / tau) / zt * (a / tau - zs)
            for a, b in zip(s_row, t_row))
    return weight * total / len(s)


def test_kd_loss_on_fixed_logits_matches_hand_computation(model):
    s = torch.tensor([[1., 2., 3., 0., -1., 0.5, 2.5, -2., 1.5, 0.],
                      [0., 0., 0., 4., 1., -3., 2., 2., 0., 1.]])
    t = torch.tensor([[3., 2., 1., 0., 1., 0., -1., 2., 0., 5.],
                      [1., -1., 0., 2., 3., 0., 0., 1., -2., 0.]])
    loss = model.distiller.distill_losses['loss_kd'](s, t)
    assert loss.item() == pytest.approx(
        _kd_by_hand(s, t, tm.KD_TAU, tm.KD_WEIGHT), rel=1e-5)


def test_kd_loss_in_the_model_uses_the_logits_of_both_nets(model):
    model.set_stage('kd')
    model.train()
    x, samples = inputs(model)
    losses = model.loss(x, samples)
    with torch.no_grad():
        s = model.student(x, mode='tensor')
        t = model.teacher(x, mode='tensor')
    assert losses['distill.loss_kd'].item() == pytest.approx(
        _kd_by_hand(s, t, tm.KD_TAU, tm.KD_WEIGHT), rel=1e-4)
    labels = torch.stack([d.gt_label for d in samples]).flatten()
    assert losses['student.loss'].item() == pytest.approx(
        F.cross_entropy(s, labels).item(), rel=1e-4)


def test_set_stage_rejects_unknown_stage_and_hint_without_pairs(model):
    with pytest.raises(ValueError, match='stage'):
        model.set_stage('finetune')
    plain = build(hints=[])
    assert plain.stage == 'kd' and len(plain.regressors) == 0
    with pytest.raises(ValueError, match='hint'):
        plain.set_stage('hint')


def test_teacher_stays_in_eval_mode(model):
    model.train()
    assert model.student.training
    assert all(not m.training for m in model.teacher.modules())
    assert all(not p.requires_grad for p in model.teacher.parameters())
    model.eval()
    model.train(True)
    assert all(not m.training for m in model.teacher.modules())


# ---------------------------------------------------------- build errors
def test_unknown_path_lists_close_matches():
    with pytest.raises(KeyError) as info:
        build(hints=[dict(student='backbone.layr2', teacher=GUIDED)])
    msg = str(info.value)
    assert 'backbone.layr2' in msg and "'backbone.layer2'" in msg
    with pytest.raises(KeyError, match='teacher'):
        build(hints=[dict(student=GUIDED, teacher='backbone.layer9')])


def test_unmappable_shapes_name_both_shapes():
    # a map (N, C, H, W) cannot be regressed onto a vector (N, C)
    with pytest.raises(ValueError) as info:
        build(hints=[dict(student=GUIDED, teacher='head.fc')])
    msg = str(info.value)
    assert '(1, 8, 8, 8)' in msg and '(1, 10)' in msg
    # 20 x 20 inputs: student layer4 is 3 x 3, teacher layer2 10 x 10
    with pytest.raises(ValueError) as info:
        build(
            hints=[dict(student='backbone.layer4', teacher=GUIDED)],
            input_shape=(3, 20, 20))
    msg = str(info.value)
    assert '(3, 3)' in msg and '(10, 10)' in msg and 'options' in msg


def test_class_count_mismatch_with_a_kd_loss_raises():
    with pytest.raises(ValueError, match='10 classes.*teacher 5'):
        build(teacher_classes=5)


def test_missing_teacher_ckpt_raises_file_not_found(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='teacher_ckpt') as info:
        build(teacher_ckpt=path)
    assert 'nope.pth' in str(info.value)


def _teacher_state(seed: int = 1) -> Dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    teacher = MODELS.build(tm.classifier_cfg(8))
    with torch.no_grad():
        for p in teacher.parameters():
            p.normal_()
    return {k: v.clone() for k, v in teacher.state_dict().items()}


def test_teacher_ckpt_with_wrong_keys_lists_them(tmp_path):
    state = _teacher_state()
    state['backbone.extra.weight'] = state.pop('head.fc.weight')
    path = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=state), path)
    with pytest.raises(KeyError) as info:
        build(teacher_ckpt=path)
    msg = str(info.value)
    assert 'missing' in msg and "'head.fc.weight'" in msg
    assert 'unexpected' in msg and "'backbone.extra.weight'" in msg


def test_teacher_ckpt_loads_and_survives_init_weights(tmp_path):
    state = _teacher_state()
    path = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=state, meta=dict(epoch=3)), path)
    model = build(teacher_ckpt=path)
    model.init_weights()
    for name, value in model.teacher.state_dict().items():
        assert torch.equal(value, state[name]), name
    # the student, by contrast, was initialised
    assert not torch.equal(model.student.head.fc.weight,
                           torch.zeros_like(model.student.head.fc.weight))
