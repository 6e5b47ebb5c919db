"""FitNetsDistill does no avoidable work: no teacher loss in stage 2 (the
finite check: tests/test_engine/test_hooks/test_finite_loss_hook.py)."""

import pytest
import torch

from fitnets_mm.models.algorithms import FitNetsDistill
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
