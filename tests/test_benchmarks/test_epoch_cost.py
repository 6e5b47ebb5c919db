"""benchmarks/epoch_cost.py: its leaf configs time what they say (one epoch,
no validation but where asked, the cache where asked), and (slow) its quick
mode measures every kind."""
import json
import os
import subprocess
import sys

import pytest
from mmengine.config import Config

from utils.benchmarks import load_benchmark

cost = load_benchmark('epoch_cost')
FASHION = '/usr/share/datasets/fashion-mnist'


def _cfg(tmp_path, kind, images, validate=False, *argv):
    args = cost.parse_args(['--out', str(tmp_path)] + list(argv))
    path = tmp_path / f'{kind}.py'
    path.write_text(cost.leaf(kind, images, validate, args))
    return Config.fromfile(str(path))


def test_kd_cached_leaf_is_one_stage2_epoch_with_the_cache(tmp_path):
    cfg = _cfg(tmp_path, 'kd-cached', 1000)
    assert cfg.train_cfg.hint_epochs == 0 and cfg.train_cfg.kd_epochs == 1
    assert cfg.train_cfg.val_begin == 1000  # no validation
    assert list(cfg.train_dataloader.dataset.indices) == list(range(1000))
    assert [h.type for h in cfg.custom_hooks] == ['mmrazor.TeacherCacheHook']
    assert cfg.model.teacher_ckpt is None and cfg.randomness.seed == 0


def test_hint_leaf_validates_in_the_full_runs_proportion(tmp_path):
    cfg = _cfg(tmp_path, 'hint', 10000)
    assert cfg.train_cfg.hint_epochs == 1 and cfg.train_cfg.kd_epochs == 0
    hook, = [h for h in cfg.custom_hooks if 'HintValidation' in h.type]
    assert list(hook.dataloader.dataset.indices) == list(range(50000, 52000))
    full = _cfg(tmp_path, 'hint', None)
    hook, = [h for h in full.custom_hooks if 'HintValidation' in h.type]
    assert list(hook.dataloader.dataset.indices) == list(range(50000, 60000))
    assert 'indices' not in full.train_dataloader.dataset or \
        list(full.train_dataloader.dataset.indices) == list(range(50000))


def test_val_and_channels_last_leaves(tmp_path):
    val = _cfg(tmp_path, 'val', cost.TINY, True)
    assert val.train_cfg.val_begin == 1 and val.train_cfg.max_epochs == 1
    cl = _cfg(tmp_path, 'backprop-cl', 1000)
    assert cl.model.data_preprocessor.channels_last is True


def test_unknown_kind_is_refused(capsys):
    with pytest.raises(SystemExit):
        cost.parse_args(['--kinds', 'kd,nope'])
    assert "unknown kinds ['nope']" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FASHION),
                    reason='apt-get install dataset-fashion-mnist')
def test_quick_mode_measures_every_kind(tmp_path):
    out = subprocess.run(
        [sys.executable, os.path.join(cost.REPO, 'benchmarks',
                                      'epoch_cost.py'), '--quick', '--out',
         str(tmp_path), '--kinds', 'kd,kd-cached'],
        capture_output=True, text=True, timeout=1800,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    saved = json.loads((tmp_path / 'epoch_cost.json').read_text())
    assert [r['kind'] for r in saved['results']] == ['kd', 'kd-cached']
    assert all(r['cpu_startup'] > 0 for r in saved['results'])
    log = (tmp_path / 'kd-cached_epoch' / 'output.log').read_text()
    assert "stage 'kd' teacher outputs loaded from" in log
    assert 'kd: 4 batches read, 0 computed' in log
    assert '| kd-cached |' in (tmp_path / 'epoch_cost.md').read_text()
