"""Documented commands too long to run in a test, checked as far as one can.

The benchmarks' full runs take minutes to hours (the slow tier runs their
``--quick`` modes, ``tests/test_benchmarks``), and the main config's
``torch.compile`` run trains for days. Each test reads its block from the
documentation and gives the command's arguments to the script's own
argument parser and, for ``tools/train.py``, to its config merge: a flag
or a config key that the documentation names and the script no longer
takes fails here.
"""
import os
import runpy
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
from utils.benchmarks import load_benchmark
from utils.doc_blocks import commands, doc_block
from utils.setup_py import setup_value

from conftest import REPO_ROOT


def _args(block: str) -> List[List[str]]:
    """The commands of a documented block, split into words."""
    return [shlex.split(c) for c in commands(block)]


def _parse(command: List[str],
           monkeypatch: pytest.MonkeyPatch) -> object:
    """The namespace the benchmark's own parser makes of ``command``."""
    assert command[0] == 'python' and command[1].startswith('benchmarks/')
    module = load_benchmark(Path(command[1]).stem)
    monkeypatch.setattr(sys, 'argv', command[1:])
    return module.parse_args()


def _extras() -> dict:
    return setup_value('extras_require')


def test_data_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    (command, ) = _args(doc_block('data-pipeline'))
    args = _parse(command, monkeypatch)
    assert (args.rounds, args.batches) == (2, 40)


def test_fsp_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    (command, ) = _args(doc_block('fsp-speed'))
    assert _parse(command, monkeypatch).epochs == 3


def test_mnist_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    full, quick = _args(doc_block('mnist-evidence'))
    assert _parse(full, monkeypatch).quick is False
    assert _parse(quick, monkeypatch).quick is True


def test_step_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    install, run = _args(doc_block('step-speed'))
    assert install == ['pip', 'install', '-e', '.[benchmark]']
    assert any(r.startswith('torchdistill') for r in _extras()['benchmark'])
    step_speed = load_benchmark('step_speed')
    monkeypatch.setattr(step_speed, 'torchdistill_available', lambda: True)
    args = _parse(run, monkeypatch)
    assert (args.batch, args.steps, args.warmup) == (128, 3, 1)
    assert set(args.variants.split(',')) <= set(step_speed.LABELS)


def test_stage_efficiency(monkeypatch: pytest.MonkeyPatch) -> None:
    (command, ) = _args(doc_block('stage-efficiency'))
    args = _parse(command, monkeypatch)
    assert (args.batch, args.rounds, args.per_layer) == (128, 3, True)
    assert args.variants == 'stage1_nchw'


def test_time_to_student(monkeypatch: pytest.MonkeyPatch) -> None:
    full, short, quick = _args(doc_block('time-to-student'))
    assert _parse(full, monkeypatch).data == 'data/mnist'
    args = _parse(short, monkeypatch)
    assert (args.epochs, args.hint_epochs) == (4, 1)
    assert _parse(quick, monkeypatch).quick is True


def test_gpu_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch
    full, steps_only, dry = _args(doc_block('gpu-speed'))
    with monkeypatch.context() as patch:  # parsed as on a GPU machine
        patch.setattr(torch.cuda, 'is_available', lambda: True)
        assert _parse(full, monkeypatch).dry is False
        assert _parse(steps_only, monkeypatch).skip == {'compile', 'loader'}
    assert _parse(dry, monkeypatch).dry is True


def test_gpu_channels_last_opt_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented opt-out reaches the student's data preprocessor."""
    from mmengine.config import Config
    (command, ) = _args(doc_block('gpu-channels-last-off'))
    train = runpy.run_path(str(REPO_ROOT / 'tools' / 'train.py'))
    monkeypatch.setattr(sys, 'argv', command[1:])
    args = train['parse_args']()
    assert args.amp
    cfg = train['merge_args'](
        Config.fromfile(str(REPO_ROOT / args.config)), args)
    assert cfg.model.architecture.data_preprocessor.channels_last is False


def test_step_speed_8_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    (command, ) = _args(doc_block('step-speed-8rounds'))
    step_speed = load_benchmark('step_speed')
    monkeypatch.setattr(step_speed, 'torchdistill_available', lambda: True)
    args = _parse(command, monkeypatch)  # unknown variants: SystemExit
    assert (args.steps, args.warmup, args.no_memory) == (8, 2, True)
    assert args.out == 'benchmarks/results/step_speed_8rounds.md'
    assert set(args.variants.split(',')) <= set(step_speed.LABELS)


def test_compile_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """The config the documented compile command trains has the option
    ``tests/test_e2e/test_compile.py`` trains with."""
    from mmengine.config import Config
    (command, ) = _args(doc_block('compile-cpu'))
    assert command[:3] == ['python', 'tools/train.py',
                           'configs/fitnet_cifar10.py']
    train = runpy.run_path(str(REPO_ROOT / 'tools' / 'train.py'))
    monkeypatch.setattr(sys, 'argv', command[1:])
    args = train['parse_args']()
    cfg = train['merge_args'](
        Config.fromfile(str(REPO_ROOT / args.config)), args)
    assert cfg.compile == dict(options=dict(layout_optimization=False))
    compile_test = (REPO_ROOT / 'tests' / 'test_e2e' /
                    'test_compile.py').read_text()
    assert 'layout_optimization' in compile_test


def test_startup_hook_cost() -> None:
    """compat_layout.md's measurement, run with 3 interpreters instead of
    21 (the older checkout: this one): the hook imports only itself."""
    import json
    this, older = _args(doc_block('startup-hook-cost'))
    assert this[:4] == ['python', 'benchmarks/startup_hook_cost.py',
                        '--repeat', '21']
    assert older[4:] == ['--source', 'OLD_CHECKOUT']
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    for command in (this, older):
        args = command[1:3] + ['3'] + [
            str(REPO_ROOT) if word == 'OLD_CHECKOUT' else word
            for word in command[4:]
        ]
        proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT,
                              env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout)
        assert result['imported'] == ['fitnets_mm_startup'], result
        assert result['hook_ms'] > 0


def test_mmrazor_config_is_the_tested_copy(tmp_path: Path) -> None:
    """The documented MMRazor config is the file ``tests/test_compat/
    test_mmrazor_configs.py`` trains through ``tools/train.py``."""
    find, train = commands(doc_block('mmrazor-config'))
    assert find.startswith('MMRAZOR=$(python ')
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
               + os.environ.get('PATH', ''))
    mmrazor = subprocess.run(['bash', '-c', f'{find}\necho "$MMRAZOR"'],
                             env=env, capture_output=True, text=True,
                             timeout=300, check=True).stdout.strip()
    python, tool, config = shlex.split(train)
    assert (python, tool) == ('python', 'tools/train.py')
    assert config.startswith('$MMRAZOR/.mim/configs/')
    installed = Path(config.replace('$MMRAZOR', mmrazor))
    copy = (REPO_ROOT / 'tests' / 'data' / 'mmrazor_configs' /
            config.split('/.mim/', 1)[1])
    assert installed.read_bytes() == copy.read_bytes()
