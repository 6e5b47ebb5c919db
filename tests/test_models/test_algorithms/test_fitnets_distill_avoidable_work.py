"""FitNetsDistill does no avoidable work: no teacher loss in stage 2, and no
host sync for the finite check on accelerators."""

import pytest
import torch
from mmengine.optim import OptimWrapper

from fitnets_mm.models.algorithms import FitNetsDistill, NonFiniteLossError
from mmrazor.models.algorithms import SingleTeacherDistill  # noqa: I100
from mmrazor.registry import MODELS

from utils import toy_models as tm


@pytest.fixture(autouse=True)
def _mmrazor_scope():
    """Build in MMRazor's scope whatever scope earlier tests left."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


@pytest.fixture(autouse=True, scope='module')
def _one_thread():
    with tm.one_thread():
        yield


def _model() -> FitNetsDistill:
    torch.manual_seed(0)
    model = MODELS.build(tm.fitnets_cfg())
    model.set_stage('kd')
    model.train()
    return model


def test_kd_stage_runs_no_teacher_loss(monkeypatch) -> None:
    model = _model()
    data = model.data_preprocessor(tm.batch(4), True)
    # MMRazor's own stage-2 loss on the same batch, for reference
    expected = SingleTeacherDistill.loss(model, data['inputs'],
                                         data['data_samples'])
    calls = []
    original = type(model.teacher.head).loss

    def spy(head, *args, **kwargs):
        calls.append(head is model.teacher.head)
        return original(head, *args, **kwargs)

    monkeypatch.setattr(type(model.teacher.head), 'loss', spy)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert calls == [False]  # the student's head only
    assert set(losses) == set(expected) == {'student.loss',
                                            'distill.loss_kd'}
    for key in losses:
        assert torch.equal(losses[key], expected[key]), key
    losses['distill.loss_kd'].backward()
    assert model.student.head.fc.weight.grad is not None
    assert all(p.grad is None for p in model.teacher.parameters())


def test_trainable_teacher_keeps_its_loss() -> None:
    torch.manual_seed(0)
    model = MODELS.build(tm.fitnets_cfg(teacher_trainable=True))
    model.set_stage('kd')
    data = model.data_preprocessor(tm.batch(4), True)
    assert 'teacher.loss' in model.loss(data['inputs'],
                                        data['data_samples'])


def test_finite_check_deferred_on_accelerators(monkeypatch) -> None:
    model = _model()
    assert model.defer_finite_check(torch.zeros(())) is False  # CPU: eager
    # what an accelerator gets: the flag stays a tensor until the step ends
    monkeypatch.setattr(FitNetsDistill, 'defer_finite_check',
                        lambda self, loss: True)
    losses = model.loss(*model.data_preprocessor(tm.batch(4), True).values())
    with monkeypatch.context() as patch:
        patch.setattr(torch.Tensor, '__bool__', _no_sync)
        patch.setattr(torch.Tensor, 'item', _no_sync)
        model.parse_losses(losses)
    flag = model._pending_finite[0]
    assert isinstance(flag, torch.Tensor) and bool(flag)
    model.check_pending_finite()
    assert model._pending_finite is None

    model.distiller.distill_losses['loss_kd'].loss_weight = float('nan')
    wrapper = OptimWrapper(torch.optim.SGD(model.student.parameters(),
                                           lr=0.01))
    before = model.student.head.fc.weight.detach().clone()
    with pytest.raises(NonFiniteLossError,
                       match='update of that iteration was applied'):
        model.train_step(tm.batch(4), wrapper)
    # the step was taken (no sync before it), and the error still came
    assert not torch.equal(model.student.head.fc.weight, before)


def _no_sync(tensor: torch.Tensor) -> bool:
    raise AssertionError('parse_losses read a tensor on the host')
