"""HintLoss: L_HT = 1/2 ||u_h(x) - r(v_g(x))||^2, averaged over the batch."""
import json
import os.path as osp

import pytest
import torch
from mmrazor.registry import MODELS

import fitnets_mm  # noqa: F401
from fitnets_mm.models.losses import HintLoss

FIXTURE = osp.join(
    osp.dirname(__file__), '..', '..', 'data', 'hint_loss_fixture.json')


@pytest.fixture(scope='module')
def fixture():
    with open(FIXTURE) as f:
        data = json.load(f)
    data['s'] = torch.tensor(data.pop('s_feature'))
    data['t'] = torch.tensor(data.pop('t_feature'))
    assert tuple(data['s'].shape) == tuple(data['shape'])
    return data


def test_sum_is_half_squared_error_summed_and_averaged_over_batch():
    s = torch.tensor([[1., 2., 3.], [0., -1., 2.]])
    t = torch.tensor([[0., 2., 5.], [1., 1., 2.]])
    # sample 0: 1 + 0 + 4 = 5; sample 1: 1 + 4 + 0 = 5 -> 0.5 * 10 / 2
    assert HintLoss()(s, t).item() == pytest.approx(2.5)
    # mean over the 6 elements instead: 0.5 * 10 / 6
    assert HintLoss(reduction='mean')(s, t).item() == pytest.approx(10 / 12)
    assert HintLoss(loss_weight=3.)(s, t).item() == pytest.approx(7.5)


def test_sum_on_maps_matches_hand_computation():
    s = torch.arange(24.).reshape(2, 3, 2, 2) / 10
    t = torch.ones(2, 3, 2, 2)
    expected = 0.5 * sum(
        (float(a) - 1.) ** 2 for a in s.flatten()) / 2
    assert HintLoss()(s, t).item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize('reduction,loss_weight,key', [
    ('sum', 1.0, 'sum'),
    ('mean', 1.0, 'mean'),
    ('sum', 2.0, 'sum_loss_weight_2'),
    ('mean', 2.0, 'mean_loss_weight_2'),
])
def test_values_pinned_by_fixture(fixture, reduction, loss_weight, key):
    loss = MODELS.build(
        dict(type='HintLoss', reduction=reduction, loss_weight=loss_weight))
    value = loss(fixture['s'], fixture['t'])
    assert value.dim() == 0
    assert value.item() == pytest.approx(
        fixture['expected'][key], rel=1e-5)


def test_default_reduction_is_the_papers_sum(fixture):
    assert HintLoss()(fixture['s'], fixture['t']).item() == pytest.approx(
        fixture['expected']['sum'], rel=1e-5)


def test_gradients_reach_the_student_feature_only():
    s = torch.randn(2, 3, 4, 4, requires_grad=True)
    t = torch.randn(2, 3, 4, 4, requires_grad=True)
    HintLoss(loss_weight=2.)(s, t).backward()
    assert t.grad is None
    # d/ds [w * 0.5 * sum((s - t)^2) / N] = w * (s - t) / N
    assert torch.allclose(s.grad, 2. * (s - t).detach() / 2)


def test_half_precision_inputs_give_a_float32_loss():
    s = torch.randn(2, 3, 4, 4)
    t = torch.randn(2, 3, 4, 4)
    loss = HintLoss()(s.half(), t.half())
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(
        HintLoss()(s.half().float(), t.half().float()).item(), rel=1e-3)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match=r'\(2, 3, 4, 4\).*\(2, 3, 2, 2\)'):
        HintLoss()(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 2, 2))


def test_bad_reduction_raises():
    with pytest.raises(ValueError, match='reduction'):
        HintLoss(reduction='none')
