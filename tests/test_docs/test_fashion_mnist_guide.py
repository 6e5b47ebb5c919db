"""Every command of docs/en/user_guides/fashion_mnist.md is exercised: the
Debian package's files, each training command (on 64 images, one epoch a
stage; slow), and the benchmark commands' arguments and runs."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from utils.benchmarks import load_benchmark
from utils.doc_blocks import doc_block

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / 'docs' / 'en' / 'user_guides' / 'fashion_mnist.md'
FASHION = '/usr/share/datasets/fashion-mnist'


def commands():
    blocks = [doc_block('fashion-install'), doc_block('fashion-train'),
              doc_block('fashion-study')]
    return [line.strip() for b in blocks for line in b.splitlines()
            if line.strip()]


def test_the_guide_shows_the_apt_get_line_and_the_configs():
    cmds = commands()
    assert cmds[0] == 'sudo apt-get install dataset-fashion-mnist'
    for line in cmds:
        for config in re.findall(r'configs/\S+\.py', line):
            assert (REPO / config).is_file(), config
    assert len([c for c in cmds if c.startswith('python')]) == 9


@pytest.mark.skipif(subprocess.run(['which', 'dpkg'],
                                   capture_output=True).returncode != 0,
                    reason='no dpkg')
def test_the_debian_package_lists_the_four_files():
    line = next(c for c in commands() if c.startswith('dpkg -L'))
    out = subprocess.run(line, shell=True, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip('dataset-fashion-mnist not installed')
    files = sorted(os.path.basename(f) for f in out.stdout.split())
    assert files == ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz',
                     'train-images-idx3-ubyte.gz',
                     'train-labels-idx1-ubyte.gz']
    assert all(f.startswith(FASHION) for f in out.stdout.split())


SHRINK = ['train_dataloader.dataset.indices=64',
          'val_dataloader.dataset.indices=64',
          'test_dataloader.dataset.indices=64',
          'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
          'test_dataloader.num_workers=0',
          'train_dataloader.persistent_workers=False',
          'val_dataloader.persistent_workers=False',
          'test_dataloader.persistent_workers=False']


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FASHION),
                    reason='apt-get install dataset-fashion-mnist')
def test_the_training_commands_run(tmp_path):
    """Each `python tools/train.py` line as shown, on 64 images and one
    epoch a stage, in order (the teacher first)."""
    teacher_ckpt = None
    for line in [c for c in commands() if 'tools/train.py' in c]:
        argv = shlex.split(line)[1:]
        config = argv[1]
        name = Path(config).stem
        options = [a for a in argv[argv.index('--cfg-options') + 1:]] \
            if '--cfg-options' in argv else []
        argv = argv[:argv.index('--cfg-options')] if options else argv
        options = [o if not o.startswith('model.teacher_ckpt=') else
                   f'model.teacher_ckpt={teacher_ckpt}' for o in options]
        if 'teacher-student' in name:
            assert any(o.startswith('model.teacher_ckpt=') for o in options)
            options += ['train_cfg.kd_epochs=1', 'custom_hooks.2.dataloader.'
                        'dataset.indices=64'] if 'fitnets' in name else \
                ['train_cfg.kd_epochs=1']
            if 'hint_epochs=0' not in open(REPO / config).read():
                options.append('train_cfg.hint_epochs=1')
        else:
            options.append('train_cfg.max_epochs=1')
        work = tmp_path / name
        cmd = [sys.executable] + argv + ['--work-dir', str(work),
                                         '--cfg-options'] + SHRINK + options
        out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                             env=dict(os.environ, OMP_NUM_THREADS='1'))
        assert out.returncode == 0, line + out.stdout[-2000:] + \
            out.stderr[-2000:]
        if 'maxout-teacher_' in name:
            teacher_ckpt = work / 'epoch_1.pth'
            assert teacher_ckpt.is_file()


def test_the_benchmark_commands_parse_and_plan_the_runs(tmp_path):
    load_benchmark('mnist_evidence')
    study = load_benchmark('convergence_study')
    cost = load_benchmark('epoch_cost')
    lines = [shlex.split(c) for c in commands()
             if c.startswith('python benchmarks/')]
    assert [a[1] for a in lines] == [
        'benchmarks/epoch_cost.py', 'benchmarks/convergence_study.py',
        'benchmarks/convergence_study.py',
        'benchmarks/convergence_study.py']
    assert cost.parse_args(lines[0][2:]).quick
    plans = [study.parse_args(a[2:]) for a in lines[1:]]
    assert plans[0].quick
    teachers, jobs = study.make_jobs(plans[1])
    assert [t['name'] for t in teachers] == ['fashion_teacher']
    assert sorted(j['name'] for j in jobs) == sorted(
        f'fashion_{r}_s{s}' for r in ('backprop', 'KD', 'FitNets', 'FSP')
        for s in range(3))
    assert plans[2].report_only and plans[2].only == ['fashion']
