"""Sequential hints: ``hint_epochs=[e1, e2]`` trains the hints one after
another, each on its own student block."""
import pytest
import torch
from mmengine.hooks import Hook

from utils import toy_models as tm

HINTS = [
    dict(student='backbone.layer1', teacher='backbone.layer1'),
    dict(student='backbone.layer2', teacher='backbone.layer2'),
]


class ParamSnapshots(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.params = []
        self.blocks = []

    def before_train_epoch(self, runner):
        self.params.append({n: p.detach().clone()
                            for n, p in runner.model.named_parameters()})
        self.blocks.append(runner.model.hint_block)

    def after_train(self, runner):
        self.before_train_epoch(runner)


def _moved(before, after, prefix):
    names = [n for n in before if n.startswith(prefix)]
    assert names, prefix
    return any(not torch.equal(before[n], after[n]) for n in names)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    snaps = ParamSnapshots()
    runner = tm.build_runner(
        work_dir=str(tmp_path_factory.mktemp('seq')),
        model=tm.fitnets_cfg(hints=HINTS),
        hint_epochs=[1, 1], kd_epochs=1, lr=0.05, custom_hooks=[snaps])
    runner.train()
    return runner, snaps


def test_each_hint_trains_its_own_block(trained):
    _, snaps = trained
    p = snaps.params
    assert snaps.blocks == [0, 1, None, None]  # the last: after training
    # block 1: the stem and layer1 (up to guided layer 1), regressor 0
    assert _moved(p[0], p[1], 'architecture.backbone.conv1')
    assert _moved(p[0], p[1], 'architecture.backbone.layer1')
    assert _moved(p[0], p[1], 'regressors.0')
    assert not _moved(p[0], p[1], 'architecture.backbone.layer2')
    assert not _moved(p[0], p[1], 'regressors.1')
    # block 2: layer2 and regressor 1 only; the earlier block is kept
    assert _moved(p[1], p[2], 'architecture.backbone.layer2')
    assert _moved(p[1], p[2], 'regressors.1')
    assert not _moved(p[1], p[2], 'architecture.backbone.conv1')
    assert not _moved(p[1], p[2], 'architecture.backbone.layer1')
    assert not _moved(p[1], p[2], 'regressors.0')
    assert not _moved(p[1], p[2], 'architecture.backbone.layer3')
    # stage 2: the whole student
    assert _moved(p[2], p[3], 'architecture.backbone.layer3')


def test_each_block_logs_its_own_loss(trained):
    runner, _ = trained
    log = tm.read_log(runner)
    assert 'Sequential hints: block 1 of 2 (hint pair backbone.layer1 -> ' \
        'backbone.layer1) from epoch 1.' in log
    assert 'block 2 of 2 (hint pair backbone.layer2' in log
    lines = [ln for ln in log.splitlines() if 'Epoch(train)' in ln]
    assert all('hint.loss_ht0' in ln and 'hint.loss_ht1' not in ln
               for ln in lines if 'Epoch(train) [1]' in ln)
    assert all('hint.loss_ht1' in ln and 'hint.loss_ht0' not in ln
               for ln in lines if 'Epoch(train) [2]' in ln)


@pytest.mark.parametrize('hint_epochs', [[1], [1, 0], [1, 1.5]])
def test_one_int_per_hint_pair(tmp_path, hint_epochs):
    with pytest.raises(ValueError, match='one int >= 1 per hint pair'):
        tm.build_runner(work_dir=str(tmp_path),
                        model=tm.fitnets_cfg(hints=HINTS),
                        hint_epochs=hint_epochs, kd_epochs=1).train()


def test_best_weights_are_selected_per_block(tmp_path):
    runner = tm.build_runner(
        work_dir=str(tmp_path), model=tm.fitnets_cfg(hints=HINTS),
        hint_epochs=[2, 1], kd_epochs=1,
        custom_hooks=[dict(type='HintValidationHook', keep_best=True,
                           dataloader=tm.dataloader_cfg())])
    runner.train()
    log = tm.read_log(runner)
    # validated each hint epoch with the loss of the block in force
    assert [ln.split('  ')[1].split(':')[0] for ln in log.splitlines()
            if 'Epoch(hint val)' in ln] == ['hint.loss_ht0'] * 2 + \
        ['hint.loss_ht1']
    # the best of each block is reloaded at the end of the block
    assert log.count('Hint phase ends: reloaded the best') == 2


FSP_LAYER2 = dict(student=('backbone.layer2.0', 'backbone.layer2'),
                  teacher=('backbone.layer2.0', 'backbone.layer2'),
                  connector=dict())


@pytest.mark.parametrize('model', [
    dict(type='FSPDistill', hints=HINTS),
    dict(type='FSPDistill', hints=HINTS[:1], fsp_pairs=[FSP_LAYER2]),
], ids=['fsp-type-with-hints', 'hint-then-fsp-pair'])
def test_fsp_distill_trains_one_block_at_a_time(tmp_path, model):
    """Each block of the sequential loop trains its own pair alone, whatever
    the kind of the pairs (issue 19: FSPDistill trained all jointly)."""
    cfg = tm.fitnets_cfg(hints=model.pop('hints'))
    cfg.update(model)
    runner = tm.build_runner(work_dir=str(tmp_path), model=cfg,
                             hint_epochs=[1, 1], kd_epochs=1)
    runner.train()
    lines = [ln for ln in tm.read_log(runner).splitlines()
             if 'Epoch(train)' in ln]
    first = [ln for ln in lines if 'Epoch(train) [1]' in ln]
    second = [ln for ln in lines if 'Epoch(train) [2]' in ln]
    names = ('hint.loss_ht0', 'hint.loss_ht1') if 'fsp_pairs' not in model \
        else ('hint.loss_ht', 'fsp.loss_fsp')
    assert first and all(names[0] in ln and names[1] not in ln
                         for ln in first), first
    assert second and all(names[1] in ln and names[0] + ':' not in ln
                          for ln in second), second
    tm.reset_runner_state()
