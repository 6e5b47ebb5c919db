"""MaxNormHook: pylearn2's max-norm constraints after every update."""
import pytest
import torch
from torch import nn

from utils import toy_models as tm

from fitnets_mm.engine.hooks import MaxNormHook, apply_max_norm  # noqa: E402


def _unit_norms(module):
    w = module.weight
    if isinstance(module, nn.ConvTranspose2d):
        w = w.transpose(0, 1)
    return w.detach().reshape(w.shape[0], -1).norm(dim=1)


def test_conv_kernels_are_rescaled_per_output_unit():
    conv = nn.Conv2d(3, 4, 3)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0].fill_(1.0)  # norm sqrt(27) = 5.196
        conv.weight[1].fill_(0.1)  # norm 0.5196, under the max
        conv.weight[2, 1].fill_(2.0)  # norm 6, one input channel only
        conv.bias.fill_(10.0)
    before = conv.weight.detach().clone()
    assert apply_max_norm(conv, 0.9) == 2
    norms = _unit_norms(conv)
    assert norms[0] == pytest.approx(0.9, rel=1e-5)
    assert norms[2] == pytest.approx(0.9, rel=1e-5)
    # units under the max and the bias are untouched
    assert torch.equal(conv.weight[1], before[1])
    assert torch.equal(conv.weight[3], before[3])
    assert torch.equal(conv.bias, torch.full((4, ), 10.0))
    # directions are kept
    assert torch.allclose(conv.weight[0], before[0] * 0.9 / 27**0.5)


def test_linear_columns_and_transposed_conv_units():
    fc = nn.Linear(5, 3)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor([[3.0, 4, 0, 0, 0], [0.1, 0, 0, 0, 0],
                                      [0, 0, 0, 0, 12]]))
    assert apply_max_norm(fc, 1.9) == 2
    assert _unit_norms(fc).tolist() == pytest.approx([1.9, 0.1, 1.9],
                                                     rel=1e-5)
    deconv = nn.ConvTranspose2d(2, 3, 2)
    with torch.no_grad():
        deconv.weight.fill_(1.0)  # each output unit: 2 * 2 * 2 ones
    apply_max_norm(deconv, 1.0)
    assert _unit_norms(deconv).tolist() == pytest.approx([1.0] * 3,
                                                         rel=1e-5)


def test_rules_select_modules_by_path_and_type():
    model = tm.fitnets_cfg()
    from mmrazor.registry import MODELS
    algo = MODELS.build(model)
    hook = MaxNormHook(rules=[
        dict(modules='architecture.backbone.layer1.*', types='Conv2d',
             max_norm=0.5),
        dict(modules=['architecture.head.*', 'regressors.*'], max_norm=1.5),
    ])
    targets = {p: n for p, _, n in hook.resolve(algo)}
    assert targets['architecture.backbone.layer1.0.conv1'] == 0.5
    assert targets['architecture.head.fc'] == 1.5
    assert targets['regressors.0.layer'] == 1.5
    assert not any(p.startswith('teacher') for p in targets)
    assert not any(p.startswith('architecture.backbone.layer2')
                   for p in targets)
    # a rule matching only the frozen teacher selects nothing: an error
    with pytest.raises(ValueError, match=r'rules\[0\].*selects no trainable'):
        MaxNormHook(rules=[dict(modules='teacher.*', max_norm=1.)]).resolve(
            algo)
    # ... unless it is optional
    assert MaxNormHook(rules=[dict(modules='teacher.*', max_norm=1.,
                                   required=False)]).resolve(algo) == []


@pytest.mark.parametrize('rule', [dict(), dict(max_norm=0),
                                  dict(max_norm=1, types='BatchNorm2d'),
                                  dict(max_norm=1, module='x')])
def test_bad_rules_raise(rule):
    with pytest.raises(ValueError, match=r'rules\[0\]'):
        MaxNormHook(rules=[rule])


def test_norms_stay_bounded_while_training(tmp_path):
    """Every step of a run at a large lr leaves every selected unit within
    its max norm, while the unconstrained run exceeds it."""
    max_norm = 0.3

    class Check(tm.Hook):
        priority = 'LOWEST'

        def __init__(self):
            self.worst = []

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            convs = [m for n, m in runner.model.named_modules()
                     if n.startswith('architecture.backbone')
                     and isinstance(m, nn.Conv2d)]
            self.worst.append(max(float(_unit_norms(m).max())
                                  for m in convs))

    results = {}
    for constrained in (True, False):
        check = Check()
        hooks = [check]
        if constrained:
            hooks.insert(0, dict(type='MaxNormHook', rules=[dict(
                modules='architecture.backbone.*', max_norm=max_norm)]))
        runner = tm.build_runner(work_dir=str(tmp_path / str(constrained)),
                                 hint_epochs=1, kd_epochs=1, lr=0.5,
                                 custom_hooks=hooks)
        runner.train()
        results[constrained] = check.worst
    assert max(results[True]) <= max_norm * (1 + 1e-5)
    assert max(results[False]) > max_norm
