"""HintCELoss: the cross-entropy hint cost for sigmoid and tanh hints."""
import math

import pytest
import torch

from fitnets_mm.models.losses import HintCELoss


def test_sigmoid_values_by_hand():
    s = torch.tensor([[0.8, 0.3]])
    t = torch.tensor([[1.0, 0.5]])
    expected = -(math.log(0.8) + 0.5 * math.log(0.3) + 0.5 * math.log(0.7))
    assert float(HintCELoss()(s, t)) == pytest.approx(expected, rel=1e-5)
    first_term = -(math.log(0.8) + 0.5 * math.log(0.3))
    assert float(HintCELoss(binary=False)(s, t)) == pytest.approx(
        first_term, rel=1e-5)


def test_tanh_is_mapped_to_probabilities():
    s = torch.tensor([[0.6, -0.4]])  # (s + 1) / 2 = 0.8, 0.3
    t = torch.tensor([[1.0, 0.0]])  # 1.0, 0.5
    same = HintCELoss()(torch.tensor([[0.8, 0.3]]), torch.tensor([[1.0,
                                                                  0.5]]))
    assert float(HintCELoss('tanh')(s, t)) == pytest.approx(float(same),
                                                           rel=1e-5)


def test_minimum_is_at_the_hint_and_gradient_reaches_the_student_only():
    t = torch.rand(4, 3, 2, 2)
    s = torch.rand(4, 3, 2, 2, requires_grad=True)
    loss = HintCELoss(loss_weight=2.0)
    at_hint = loss(t.clone(), t)
    assert float(loss(s, t)) > float(at_hint)
    loss(s, t.requires_grad_()).backward()
    assert s.grad is not None and t.grad is None
    # sum over elements, mean over the batch
    one = loss(s[:1], t[:1])
    assert float(loss(s[:1].repeat(4, 1, 1, 1), t[:1].repeat(4, 1, 1, 1))) \
        == pytest.approx(float(one), rel=1e-5)


def test_errors_name_what_was_received():
    with pytest.raises(ValueError, match="'relu'"):
        HintCELoss('relu')
    with pytest.raises(ValueError, match=r'\(2, 3\).*\(2, 4\)'):
        HintCELoss()(torch.rand(2, 3), torch.rand(2, 4))
