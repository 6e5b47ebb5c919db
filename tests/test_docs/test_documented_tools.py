"""The analysis commands of ``user_guides/tools.md``, run as written.

The block ``log-tools`` reads a run's ``scalars.json`` and the main config:
``cal_train_time`` runs on a logged two-stage run of the test data (for the
documented glob), ``get_flops.py`` on the documented config itself (it
builds the student only, without the teacher's weights, in seconds). The
``tools/test.py`` lines need a trained student: here their arguments go
through the tool's own parser and config merge on the documented config;
``tests/test_tools/test_run_log_tools.py`` (slow) runs both options on a
fresh run.
"""
import os
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from utils.doc_blocks import commands, doc_block

from conftest import REPO_ROOT

SCALARS = REPO_ROOT / 'tests' / 'data' / 'logs' / (
    'fitnets_two_stage_scalars.json')


def _tool_commands() -> List[List[str]]:
    found = [shlex.split(c) for c in commands(doc_block('log-tools'))]
    assert [c[:2] for c in found] == [
        ['python', 'tools/analysis/analyze_logs.py'],
        ['python', 'tools/analysis/get_flops.py'],
        ['python', 'tools/test.py'],
        ['python', 'tools/test.py'],
    ]
    return found


def _run(args: List[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_cal_train_time_and_get_flops_as_documented() -> None:
    times, flops, _, _ = _tool_commands()
    assert flops[2:] == ['configs/fitnet_cifar10.py', '--stage1']
    assert times[2] == 'cal_train_time'
    assert times[3] == 'work_dirs/fitnet_cifar10/*/vis_data/scalars.json'
    proc = _run(times[1:3] + [str(SCALARS)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert re.search(r'stage 1 \(hint\): average iter time [\d.]+ s/iter',
                     proc.stdout), proc.stdout
    assert re.search(r'stage 2: average iter time [\d.]+ s/iter',
                     proc.stdout), proc.stdout

    proc = _run(flops[1:])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'Model: student (model.architecture)' in proc.stdout
    assert re.search(r'Params: [\d.]+M', proc.stdout), proc.stdout
    assert re.search(r'Stage 1 forward \(student up to backbone.layer2\)',
                     proc.stdout), proc.stdout


def test_show_dir_and_tta_reach_the_config(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mmengine.config import Config
    _, _, show, tta = _tool_commands()
    test = runpy.run_path(str(REPO_ROOT / 'tools' / 'test.py'))
    configs = []
    for command in (show, tta):
        monkeypatch.setattr(sys, 'argv', command[1:])
        args = test['parse_args']()
        configs.append(test['merge_args'](
            Config.fromfile(str(REPO_ROOT / args.config)), args))
    drawn, augmented = configs
    hook = drawn.default_hooks.visualization
    assert (hook.enable, hook.out_dir) == (True, 'shows')
    assert 'tta_model' in augmented and 'tta_pipeline' in augmented
