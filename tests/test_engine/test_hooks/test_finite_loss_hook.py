"""FiniteLossGuardHook: a NaN or infinite loss stops training, before the
update on the CPU, without a host sync on accelerators; its advice is a
command for the run's own work dir."""
import os.path as osp
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmrazor.registry import MODELS

from utils import toy_models as tm

from fitnets_mm.engine.hooks import FiniteLossGuardHook, NonFiniteLossError
from fitnets_mm.engine.hooks.resume_advice import resume_advice


def _model(stage: str = 'hint') -> Any:
    torch.manual_seed(0)
    model = MODELS.build(tm.fitnets_cfg())
    model.set_stage(stage)
    model.train()
    return model


def _runner(model: Any, wrapper: Any, work_dir: str, **kwargs: Any) -> Any:
    """What the hook reads of a runner."""
    return SimpleNamespace(model=model, optim_wrapper=wrapper, iter=4,
                           work_dir=work_dir, timestamp='20260101_000000',
                           cfg=SimpleNamespace(filename=None), **kwargs)


def _sgd(model: Any) -> OptimWrapper:
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01,
                                        momentum=0.9))


@pytest.mark.parametrize('stage,loss_name', [('hint', 'hint.loss_ht'),
                                             ('kd', 'distill.loss_kd')])
def test_non_finite_loss_raises_before_any_update(tmp_path, stage,
                                                  loss_name):
    model = _model(stage)
    loss_module = model.hint_losses[0] if stage == 'hint' else \
        model.distiller.distill_losses['loss_kd']
    loss_module.loss_weight = float('nan')
    wrapper = _sgd(model)
    hook = FiniteLossGuardHook()
    runner = _runner(model, wrapper, str(tmp_path))
    hook.before_train(runner)
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    log_vars = model.train_step(tm.batch(4), wrapper)
    for name, param in model.named_parameters():
        assert torch.equal(param, params[name]), name
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(NonFiniteLossError) as info:
        hook.after_train_iter(runner, 0, outputs=log_vars)
    msg = str(info.value)
    assert '\n' not in msg
    for part in (loss_name, repr(stage), 'iteration 5',
                 'Training stopped before the update'):
        assert part in msg, f'{part!r} not in {msg}'


def test_finite_losses_train_and_pass(tmp_path):
    model = _model()
    wrapper = _sgd(model)
    hook = FiniteLossGuardHook()
    runner = _runner(model, OptimWrapperDict(hint=wrapper), str(tmp_path))
    hook.before_train(runner)
    hook.before_train(runner)  # guarding twice wraps once
    before = model.regressors[0].layer.weight.detach().clone()
    log_vars = model.train_step(tm.batch(4), wrapper)
    hook.after_train_iter(runner, 0, outputs=log_vars)
    assert not torch.equal(model.regressors[0].layer.weight, before)


def test_check_deferred_on_accelerators(tmp_path, monkeypatch):
    """What an accelerator gets: the step is taken without reading the
    flag on the host, and the error comes after it."""
    model = _model('kd')
    wrapper = OptimWrapper(torch.optim.SGD(model.student.parameters(),
                                           lr=0.01))
    hook = FiniteLossGuardHook()
    assert hook.defer(torch.zeros(())) is False  # CPU: at once
    monkeypatch.setattr(hook, 'defer', lambda loss: True)
    runner = _runner(model, wrapper, str(tmp_path))
    model.distiller.distill_losses['loss_kd'].loss_weight = float('nan')
    before = model.student.head.fc.weight.detach().clone()
    data = model.data_preprocessor(tm.batch(4), True)
    loss, log_vars = model.parse_losses(model(**data, mode='loss'))
    steps = []
    wrapper.update_params = lambda *args: steps.append(args)
    hook.guard(wrapper)  # around a step that records its loss
    with monkeypatch.context() as patch:
        patch.setattr(torch.Tensor, '__bool__', _no_sync)
        patch.setattr(torch.Tensor, 'item', _no_sync)
        wrapper.update_params(loss)
    assert len(steps) == 1  # the step was taken, the flag not read
    steps[0][0].backward()
    wrapper.step()
    assert not torch.equal(model.student.head.fc.weight, before)
    with pytest.raises(NonFiniteLossError,
                       match='update of that iteration was applied'):
        hook.after_train_iter(runner, 0, outputs=log_vars)


def _no_sync(tensor: torch.Tensor) -> bool:
    raise AssertionError('the guard read a tensor on the host')


def test_advice_without_a_checkpoint_starts_again(tmp_path):
    runner = _runner(None, None, str(tmp_path))
    advice = resume_advice(runner)
    assert '--resume' not in advice
    assert f'No checkpoint was saved in {tmp_path}' in advice
    assert advice.endswith(
        f'python tools/train.py CONFIG --work-dir {tmp_path} --cfg-options '
        'optim_wrapper.optimizer.lr=LR')
    # the copy of the config the runner dumped stands in for CONFIG
    dumped = tmp_path / '20260101_000000.py'
    dumped.write_text('')
    assert f'python tools/train.py {dumped} ' in resume_advice(runner)


def test_advice_with_a_checkpoint_resumes_from_it(tmp_path):
    config = tmp_path / 'my_config.py'
    config.write_text('')
    checkpoint = tmp_path / 'epoch_3.pth'
    (tmp_path / 'last_checkpoint').write_text(str(checkpoint))
    runner = _runner(None, None, str(tmp_path))
    runner.cfg.filename = str(config)
    # named in last_checkpoint but deleted: nothing to resume
    assert '--resume' not in resume_advice(runner)
    checkpoint.write_bytes(b'')
    assert (f'python tools/train.py {config} --work-dir {tmp_path} '
            f'--resume {checkpoint} --reset-lr --cfg-options '
            'optim_wrapper.optimizer.lr=LR') in resume_advice(runner)
    assert osp.basename(str(config)) in resume_advice(runner)
