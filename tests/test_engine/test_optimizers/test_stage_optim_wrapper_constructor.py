"""StageOptimWrapperConstructor: one optimizer per FitNets stage."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmrazor.registry import MODELS

from utils import toy_models as tm

from fitnets_mm.engine.optimizers import hint_trained_parameters  # noqa: E402


def _names(algo, ids):
    return {n for n, p in algo.named_parameters() if id(p) in ids}


def _group_of(wrapper, param):
    for group in wrapper.param_groups:
        if any(p is param for p in group['params']):
            return group
    return None


@pytest.fixture(scope='module')
def algo():
    return MODELS.build(tm.fitnets_cfg())


def test_hint_trained_parameters_are_found_by_looking(algo):
    names = _names(algo, hint_trained_parameters(algo))
    # the student up to layer2 (the guided layer) and the regressor
    assert 'architecture.backbone.conv1.weight' in names
    assert 'architecture.backbone.layer2.1.conv2.weight' in names
    assert 'regressors.0.layer.weight' in names
    assert not any(n.startswith(('architecture.backbone.layer3',
                                 'architecture.head', 'teacher'))
                   for n in names)
    # no gradient is left behind; the stage is restored
    assert all(p.grad is None for p in algo.parameters())
    assert algo.stage == 'hint'


def test_each_stage_optimizes_its_own_parameters(algo):
    wrappers = build_optim_wrapper(algo, dict(
        constructor='mmrazor.StageOptimWrapperConstructor',
        hint=dict(optimizer=dict(type='RMSprop', lr=1e-3, alpha=0.9)),
        kd=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        kd_hint_lr_mult=0.05))
    assert sorted(wrappers.keys()) == ['hint', 'kd']
    hint, kd = wrappers['hint'], wrappers['kd']
    assert isinstance(hint.optimizer, torch.optim.RMSprop)
    assert isinstance(kd.optimizer, torch.optim.SGD)
    params = dict(algo.named_parameters())
    hint_names = {n for n, p in params.items() if _group_of(hint, p)}
    assert hint_names == _names(algo, hint_trained_parameters(algo))
    kd_names = {n for n, p in params.items() if _group_of(kd, p)}
    assert kd_names == {n for n in params
                        if n.startswith('architecture.')}
    # stage 2: hint-trained layers at 0.05 x the rate, the rest at the rate
    assert _group_of(kd, params['architecture.backbone.conv1.weight'])[
        'lr'] == pytest.approx(0.005)
    assert _group_of(kd, params['architecture.backbone.layer3.0.conv1.weight']
                     )['lr'] == pytest.approx(0.1)
    assert _group_of(kd, params['architecture.head.fc.weight'])['lr'] == \
        pytest.approx(0.1)


def test_one_stage_config_is_copied_to_the_other(algo):
    wrappers = build_optim_wrapper(algo, dict(
        constructor='mmrazor.StageOptimWrapperConstructor',
        kd=dict(optimizer=dict(type='Adam', lr=1e-3))))
    assert isinstance(wrappers['hint'].optimizer, torch.optim.Adam)
    assert wrappers['hint'].optimizer is not wrappers['kd'].optimizer


@pytest.mark.parametrize('cfg,match', [
    (dict(), 'hint` and/or `kd'),
    (dict(generator=dict(optimizer=dict(type='SGD', lr=1))), 'generator'),
    (dict(kd=dict(lr=1)), r'optim_wrapper\.(hint|kd) must'),
    (dict(kd=dict(optimizer=dict(type='SGD', lr=1)), kd_hint_lr_mult=-1),
     'kd_hint_lr_mult'),
])
def test_bad_configs_raise(algo, cfg, match):
    with pytest.raises(ValueError, match=match):
        build_optim_wrapper(
            algo, dict(constructor='mmrazor.StageOptimWrapperConstructor',
                       **cfg))


def test_single_optimizer_state_is_cleared_at_the_switch(tmp_path):
    """The default fresh stage-2 state, and the option to keep it."""
    states = {}
    for fresh in (True, False):
        record = tm.RecordHook()
        runner = tm.build_runner(
            work_dir=str(tmp_path / str(fresh)), hint_epochs=1, kd_epochs=1,
            custom_hooks=[record],
            train_cfg=dict(type='FitNetsTrainLoop', hint_epochs=1,
                           kd_epochs=1, fresh_kd_optimizer=fresh))
        runner.train()
        states[fresh] = [e['optim_state']['state'] for e in record.epochs]
    assert states[True][1] == {} and states[False][1] != {}


def test_without_hints_the_hint_optimizer_is_empty_but_logs_its_lr():
    algo = MODELS.build(tm.fitnets_cfg(hints=[]))
    wrappers = build_optim_wrapper(algo, dict(
        constructor='mmrazor.StageOptimWrapperConstructor',
        kd=dict(optimizer=dict(type='SGD', lr=0.1))))
    assert [g['params'] for g in wrappers['hint'].param_groups] == [[]]
    assert wrappers.get_lr() == {'hint.lr': [0.1], 'kd.lr': [0.1]}


def test_top_level_settings_are_shared_by_both_stages(algo):
    """As ``tools/train.py --amp`` sets ``optim_wrapper.type``."""
    wrappers = build_optim_wrapper(algo, dict(
        constructor='mmrazor.StageOptimWrapperConstructor',
        optimizer=dict(type='SGD', lr=0.1), clip_grad=dict(max_norm=1.0),
        kd=dict(optimizer=dict(type='Adam', lr=1e-3))))
    assert isinstance(wrappers['hint'].optimizer, torch.optim.SGD)
    assert isinstance(wrappers['kd'].optimizer, torch.optim.Adam)
    assert wrappers['hint'].clip_grad_kwargs == dict(max_norm=1.0)
    assert wrappers['kd'].clip_grad_kwargs == dict(max_norm=1.0)
