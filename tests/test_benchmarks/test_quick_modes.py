"""The benchmarks' quick modes run and print complete, finite tables.

Benchmarks are run by hand; these tests only keep them from rotting.
"""
import json
import math
import os
import re
import subprocess
import sys

import pytest

from utils.benchmarks import load_benchmark

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BENCH = os.path.join(REPO, 'benchmarks')


def _run(args, cwd, timeout=300):
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def _rows(text, first_cell):
    """Cells of the markdown rows whose first cell starts with
    ``first_cell``."""
    rows = []
    for line in text.splitlines():
        if line.startswith('|'):
            cells = [c.strip() for c in line.strip('|').split('|')]
            if cells[0].startswith(first_cell):
                rows.append(cells)
    return rows


def _numbers(cells):
    return [float(x) for c in cells
            for x in re.findall(r'-?\d+(?:\.\d+)?|nan', c.replace(',', ''))]


@pytest.mark.slow
def test_mnist_evidence_quick(tmp_path, mnist_root):
    """Every network is trained by tools/train.py on a leaf of a paper
    config; Table 4 is complete; a second call reuses the finished runs."""
    args = [
        os.path.join(BENCH, 'mnist_evidence.py'), '--quick', '--out',
        str(tmp_path / 'work'), '--results', str(tmp_path / 'results'),
        '--data', str(mnist_root), '--depths', ''
    ]
    out = _run(args, cwd=str(tmp_path), timeout=900)
    for regime in ('teacher', 'backprop', 'KD', 'FitNets'):
        rows = _rows(out, regime)
        assert rows, f'no row for {regime} in\n{out}'
        # error and the paper's number are finite (one seed: no spread)
        nums = _numbers(rows[0][1:2] + rows[0][4:])
        assert nums and all(math.isfinite(n) for n in nums), rows[0]
        assert 0 <= nums[0] <= 100
    assert _rows(out, 'FitNets − backprop'), out
    assert (tmp_path / 'results' / 'mnist_evidence.md').stat().st_size > 0
    # each run: a leaf of a configs/fitnets/paper config, run by
    # tools/train.py, its result saved on its own
    runs = sorted((tmp_path / 'work' / 'runs').glob('*.json'))
    assert len(runs) == 1 + 3, runs
    for path in runs:
        run = json.loads(path.read_text())
        assert 'tools/train.py' in run['command'], run
        leaf = (tmp_path / 'work' / 'leaves' / f'{path.stem}.py').read_text()
        assert 'configs/fitnets/paper/' in leaf, leaf
    fitnets_log = (tmp_path / 'work' / 'table4_FitNets_s0' /
                   'train_output.log').read_text()
    assert 'FitNets stage 1 (hint)' in fitnets_log
    assert 'Epoch(hint val) [1]' in fitnets_log
    assert 'reloaded the best stage-1 weights' in fitnets_log
    # resumable: finished runs are read back, not trained again
    again = _run(args, cwd=str(tmp_path), timeout=300)
    assert ' in ' not in ''.join(
        ln for ln in again.splitlines() if ln.startswith('table4_'))
    assert _rows(again, 'FitNets')[0] == _rows(out, 'FitNets')[0]
    report = _run(args + ['--report-only'], cwd=str(tmp_path), timeout=300)
    assert '--report-only: 3 of 3 runs finished' in report
    assert _rows(report, 'FitNets')[0] == _rows(out, 'FitNets')[0]


def test_mnist_depth_study_configs_and_report(tmp_path):
    """The depth study's leaf configs swap in the student and hint its
    middle layer; its table and plot show mean ± std over seeds."""
    from mmengine.config import Config
    bench = load_benchmark('mnist_evidence')
    args = bench.parse_args(['--quick', '--data', str(tmp_path),
                             '--out', str(tmp_path / 'work')])
    backbone, head, width, mult = bench.depth_student(5, 5_300_000)
    assert mult <= 5_300_000 and len(
        [c for s in backbone['stages'] for c in s['channels']]) == 5
    for regime in ('backprop', 'FitNets'):
        job = dict(name='d', regime=regime, seed=0, epochs=2,
                   hint_epochs=1, teacher_ckpt='t.pth', depth=5,
                   backbone=backbone, head=head)
        path = tmp_path / f'{regime}.py'
        path.write_text(bench.leaf_config(job, args))
        cfg = Config.fromfile(str(path))
        model = cfg.model if regime == 'backprop' else \
            cfg.model.architecture
        assert model.backbone.type == 'MaxoutConvNet'
        assert model.head.in_channels == width * 16
    assert cfg.model.hints[0].student == 'backbone.layers.2'
    assert cfg.train_cfg.hint_epochs == 1 and cfg.train_cfg.kd_epochs == 1
    results = [dict(depth=d, regime=r, seed=s, accuracy=90.0 + s + d / 10)
               for d in (3, 5) for r in bench.REGIMES for s in (0, 1)]
    specs = {3: (None, None, 33, 5.27e6), 5: (None, None, 15, 5.18e6)}
    table = bench.depth_table(results, specs)
    rows = [r for r in _rows(table, '') if r[0] in ('3', '5')]
    assert [r[0] for r in rows] == ['3', '5']
    assert rows[0][-1] == '90.80 ± 0.71 (2)', rows
    bench.plot_depth(results, str(tmp_path / 'depth.png'))
    assert (tmp_path / 'depth.png').stat().st_size > 0


def test_mnist_evidence_schedules():
    """The defaults are the measured study's schedules (Table 4: 12 epochs,
    3 of them hint; depth study: 8 and 2; teacher 5), the depth study's can
    be set apart, and a hint stage as long as the run is refused."""
    bench = load_benchmark('mnist_evidence')
    args = bench.parse_args([])
    assert (args.epochs, args.hint_epochs, args.depth_epochs,
            args.depth_hint_epochs, args.teacher_epochs) == (12, 3, 8, 2, 5)
    args = bench.parse_args(['--depth-epochs', '4', '--depth-hint-epochs',
                             '1'])
    assert (args.epochs, args.depth_epochs, args.depth_hint_epochs) == (
        12, 4, 1)
    with pytest.raises(SystemExit):
        bench.parse_args(['--depth-epochs', '2', '--depth-hint-epochs', '2'])


@pytest.mark.slow
def test_step_speed_quick(tmp_path):
    out = _run([
        os.path.join(BENCH, 'step_speed.py'), '--quick', '--out',
        str(tmp_path / 'step_speed.md')
    ], cwd=str(tmp_path), timeout=600)
    labels = ['(a) floor', '(a2) floor, second copy', '(b) fitnets_mm stage 2',
              '(b-nchw) fitnets_mm stage 2, channels_last=False',
              '(e) floor: hand-written truncated', '(c) fitnets_mm stage 1',
              '(c-nchw) fitnets_mm stage 1, channels_last=False',
              '(c-k1) fitnets_mm stage 1, 1x1 regressor',
              '(d) MMRazor stock joint']
    try:
        import torchdistill  # noqa: F401
        labels += ['(b-td) torchdistill stage 2', '(c-td) torchdistill']
    except ImportError:
        pass
    for label in labels:
        rows = _rows(out, label)
        assert len(rows) == 1, f'no row for {label} in\n{out}'
        # s/step, images/s, then median [min, max] of per-round ratios
        nums = _numbers(rows[0][1:3] + rows[0][4:5])
        assert len(nums) == 5 and all(math.isfinite(n) and n > 0
                                      for n in nums), rows[0]
    floor = _rows(out, '(a) floor')[0]
    assert floor[4] == '1.000 [1.000, 1.000]'
    assert _rows(out, '(c) fitnets_mm stage 1')[0][3] == 'floor_hint'
    for target in ('noise: floor copy / floor', 'stage 2 / floor',
                   'stage 1 / hand-written truncated stage 1',
                   'stage 1 speed-up over MMRazor joint',
                   'stage 1 (1x1 regressor) speed-up over MMRazor joint',
                   'channels_last stage 2 / NCHW stage 2',
                   'channels_last stage 1 / NCHW stage 1',
                   'stage 1 / stage 2 peak memory',
                   'stage 1 (1x1) / stage 2 peak memory'):
        assert _rows(out, target), target
    # the shipped config's regressor and layout are the defaults
    assert '3x3 regressor' in out and 'channels_last layout' in out
    text = (tmp_path / 'step_speed.md').read_text()
    assert 'No GPU on this machine' in text and text.count('|') > 40
