"""Guarantee 12: importing fitnets_mm does not change what a plain mmengine
run (no FitNets model, config or hook) produces.

The same run (``tests/utils/plain_mmengine_run.py``: 2 epochs, then a resume
to 3) is made in fresh interpreters twice:

* with ``import fitnets_mm`` (every fix on);
* with mmengine alone: ``FITNETS_MM_COMPAT_OFF=all`` (not even the
  interpreter-start hook) and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``, the
  way mmengine 0.10.7 loads checkpoints on the torch it was written for.

Weights, buffers, optimizer state, checkpoint layout, the files in the work
dir and every logged value must be equal; the fitnets_mm run says in its log
which fixes acted. A third run shows why these fixes are process-wide: with
mmengine alone on today's torch, the resume fails.
"""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

SCRIPT = Path(__file__).parents[1] / 'utils' / 'plain_mmengine_run.py'


def _run(work_dir: Path, *args: str, fitnets: bool,
         weights_only_default: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    env.pop('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', None)
    if fitnets:
        env.pop('FITNETS_MM_COMPAT_OFF', None)
        args += ('--import-fitnets', )
    else:
        env['FITNETS_MM_COMPAT_OFF'] = 'all'
        if not weights_only_default:
            env['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'
    return subprocess.run(
        [sys.executable, str(SCRIPT),
         str(work_dir), *args],
        env=env, capture_output=True, text=True, timeout=300)


def _train_and_resume(work_dir: Path, fitnets: bool) -> Dict[str, Any]:
    reports = []
    for args in (('--epochs', '2'), ('--epochs', '3', '--resume')):
        out = _run(work_dir, *args, fitnets=fitnets)
        assert out.returncode == 0, out.stderr[-3000:]
        reports.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return reports


@pytest.fixture(scope='module')
def runs(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    root = tmp_path_factory.mktemp('plain')
    return dict(
        fitnets=_train_and_resume(root / 'fitnets', fitnets=True),
        mmengine=_train_and_resume(root / 'mmengine', fitnets=False))


@pytest.mark.timeout(600)
def test_same_weights_optimizer_and_checkpoint(runs: Dict[str, Any]) -> None:
    for with_fitnets, alone in zip(runs['fitnets'], runs['mmengine']):
        for key in ('state', 'checkpoint_state', 'momentum',
                    'checkpoint_keys', 'meta', 'hub_scalars',
                    'last_checkpoint'):
            assert with_fitnets[key] == alone[key], key
    trained, resumed = runs['fitnets']
    assert resumed['meta'] == dict(epoch=3, iter=12)
    assert resumed['state'] != trained['state']  # the resume trained on


@pytest.mark.timeout(600)
def test_same_files_and_logged_values(runs: Dict[str, Any]) -> None:
    for with_fitnets, alone in zip(runs['fitnets'], runs['mmengine']):
        assert with_fitnets['files'] == alone['files']
        assert with_fitnets['scalars'] == alone['scalars']
    files = runs['fitnets'][1]['files']
    assert 'epoch_3.pth' in files and 'epoch_2.pth' not in files
    assert any(s.get('mse') is not None for s in runs['fitnets'][1]['scalars'])


@pytest.mark.timeout(600)
def test_the_fixes_that_acted_are_announced_once(
        runs: Dict[str, Any]) -> None:
    trained, resumed = (r['announced'] for r in runs['fitnets'])
    assert trained == ['fitnets_mm.compat.atomic_checkpoint']
    assert sorted(resumed) == [
        'fitnets_mm.compat.atomic_checkpoint',
        'fitnets_mm.compat.safe_checkpoint'
    ]
    assert all(r['announced'] == [] for r in runs['mmengine'])


@pytest.mark.timeout(600)
def test_mmengine_alone_cannot_resume_on_this_torch(tmp_path: Path) -> None:
    work_dir = tmp_path / 'alone'
    first = _run(work_dir, '--epochs', '1', fitnets=False,
                 weights_only_default=True)
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = _run(work_dir, '--epochs', '2', '--resume', fitnets=False,
                   weights_only_default=True)
    assert resumed.returncode != 0
    assert 'Weights only load failed' in resumed.stderr
