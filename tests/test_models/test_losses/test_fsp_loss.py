"""FSPLoss: (1/N) sum_x lambda ||G^T(x) - G^S(x)||^2 for one pair of layers."""
import json
import os.path as osp

import pytest
import torch

import fitnets_mm  # noqa: F401  (makes MMRazor importable on torch 2)
from fitnets_mm.models.losses import FSPLoss
from fitnets_mm.models.utils import fsp_matrix
from mmpretrain.structures import DataSample  # noqa: I100
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.registry import MODELS

from utils import toy_models as tm

FIXTURE = osp.join(
    osp.dirname(__file__), '..', '..', 'data', 'fsp_loss_fixture.json')
KEYS = ('s_feature_1', 's_feature_2', 't_feature_1', 't_feature_2')


@pytest.fixture(scope='module')
def fixture():
    with open(FIXTURE) as f:
        data = json.load(f)
    for key in KEYS:
        data[key] = torch.tensor(data[key])
        assert tuple(data[key].shape) == tuple(data['shapes'][key])
    return data


def test_hand_computed_value():
    # student: G = [[7, 3.5]]^T as in test_fsp_matrix; teacher: F2 doubled
    f1 = torch.tensor([[[[1., 2.]], [[3., -1.]]]])
    f2 = torch.tensor([[[[4., 5.]]]])
    loss = FSPLoss()(f1, f2, f1, 2 * f2)
    # G_T - G_S = [[7], [3.5]] -> 49 + 12.25
    assert loss.item() == pytest.approx(61.25)
    assert FSPLoss(loss_weight=0.5)(f1, f2, f1, 2 * f2).item() == \
        pytest.approx(30.625)
    assert FSPLoss(reduction='mean')(f1, f2, f1, 2 * f2).item() == \
        pytest.approx(61.25 / 2)


@pytest.mark.parametrize('reduction,loss_weight,key', [
    ('sum', 1.0, 'sum'),
    ('mean', 1.0, 'mean'),
    ('sum', 2.0, 'sum_loss_weight_2'),
])
def test_values_pinned_by_fixture(fixture, reduction, loss_weight, key):
    loss = MODELS.build(
        dict(type='FSPLoss', reduction=reduction, loss_weight=loss_weight))
    value = loss(*(fixture[k] for k in KEYS))
    assert value.dim() == 0
    assert value.item() == pytest.approx(fixture['expected'][key], rel=1e-5)


def test_fixture_matrices_are_the_fsp_matrices(fixture):
    g_s = fsp_matrix(fixture['s_feature_1'], fixture['s_feature_2'])
    g_t = fsp_matrix(fixture['t_feature_1'], fixture['t_feature_2'])
    assert torch.allclose(g_s, torch.tensor(fixture['g_student']), atol=1e-6)
    assert torch.allclose(g_t, torch.tensor(fixture['g_teacher']), atol=1e-6)


def test_default_is_the_papers_sum_over_entries_mean_over_batch(fixture):
    value = FSPLoss()(*(fixture[k] for k in KEYS))
    assert value.item() == pytest.approx(fixture['expected']['sum'], rel=1e-5)
    # scale: the sum over the m x n = 6 entries is 6x the entry mean
    assert value.item() == pytest.approx(
        6 * fixture['expected']['mean'], rel=1e-5)


def test_gradients_reach_only_the_student(fixture):
    feats = {k: fixture[k].clone().requires_grad_(True) for k in KEYS}
    FSPLoss()(**feats).backward()
    for key in ('s_feature_1', 's_feature_2'):
        assert feats[key].grad is not None
        assert feats[key].grad.abs().sum() > 0, key
    for key in ('t_feature_1', 't_feature_2'):
        assert feats[key].grad is None, key


def test_size_mismatch_within_a_network_is_a_clear_error():
    s1, s2 = torch.ones(2, 3, 8, 8), torch.ones(2, 4, 4, 4)
    t1, t2 = torch.ones(2, 3, 8, 8), torch.ones(2, 4, 4, 4)
    with pytest.raises(ValueError, match='one spatial size') as err:
        FSPLoss()(s1, s2, t1, t2)
    assert '(2, 3, 8, 8)' in str(err.value)
    # the documented option pools the larger map to the smaller one
    assert FSPLoss(pool='avg')(s1, s2, t1, t2).item() == 0.0


def test_channel_mismatch_across_networks_is_a_clear_error():
    s = torch.ones(2, 3, 4, 4)
    t = torch.ones(2, 5, 4, 4)
    with pytest.raises(ValueError, match=r'student gives \(3, 3\).*'
                       r'teacher \(5, 5\)'):
        FSPLoss()(s, s, t, t)


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="got 'none'"):
        FSPLoss(reduction='none')
    with pytest.raises(ValueError, match="got 'bilinear'"):
        FSPLoss(pool='bilinear')


def test_drops_into_a_plain_configurable_distiller():
    """MMRazor's SingleTeacherDistill feeds four recorders to the loss."""

    def rec(source):
        return dict(type='ModuleOutputs', source=source)

    def feat(student, recorder):
        return dict(from_student=student, recorder=recorder)

    recorders = dict(first=rec('backbone.layer2.0'),
                     second=rec('backbone.layer2'))
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='SingleTeacherDistill',
            architecture=tm.classifier_cfg(4),
            teacher=tm.classifier_cfg(4),
            distiller=dict(
                type='ConfigurableDistiller',
                student_recorders=recorders,
                teacher_recorders=recorders,
                distill_losses=dict(loss_fsp=dict(type='FSPLoss')),
                loss_forward_mappings=dict(
                    loss_fsp=dict(
                        s_feature_1=feat(True, 'first'),
                        s_feature_2=feat(True, 'second'),
                        t_feature_1=feat(False, 'first'),
                        t_feature_2=feat(False, 'second'))))))
    x = torch.randn(2, 3, 16, 16)
    samples = [DataSample().set_gt_label(i) for i in range(2)]
    assert isinstance(model, SingleTeacherDistill)
    losses = model.loss(x, samples)
    assert set(losses) == {'student.loss', 'distill.loss_fsp'}
    value = losses['distill.loss_fsp']
    assert value.item() > 0 and value.requires_grad
    # the same loss by hand: two networks of one width, different weights
    with torch.no_grad():
        s1, s2 = tm.layer2_maps(model.student, x)
        t1, t2 = tm.layer2_maps(model.teacher, x)
    assert value.item() == pytest.approx(
        FSPLoss()(s1, s2, t1, t2).item(), rel=1e-4)
