"""The benchmarks' quick modes run and print complete, finite tables.

Benchmarks are run by hand; these tests only keep them from rotting.
"""
import math
import os
import re
import subprocess
import sys

import pytest

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


def test_mnist_evidence_quick(tmp_path, mnist_root):
    out = _run([
        os.path.join(BENCH, 'mnist_evidence.py'), '--quick', '--out',
        str(tmp_path / 'work'), '--results', str(tmp_path / 'results'),
        '--data', str(mnist_root), '--depths', '3,5'
    ], cwd=str(tmp_path))
    assert 'cached teacher vs live forward: max |diff| = 0.00e+00' in out
    for regime in ('teacher', 'backprop', 'KD', 'FitNets'):
        rows = _rows(out, regime)
        assert rows, f'no row for {regime} in\n{out}'
        # error, params, wall and the paper's number are finite (one seed:
        # no spread is claimed)
        assert 'nan' not in ' '.join(rows[0]), rows[0]
        nums = _numbers(rows[0][1:2] + rows[0][4:])
        assert nums and all(math.isfinite(n) for n in nums), rows[0]
        assert 0 <= nums[0] <= 100
    depth_rows = [r for r in _rows(out, '') if r[0] in ('3', '5')]
    assert [r[0] for r in depth_rows] == ['3', '5'], out
    for row in depth_rows:
        accs = _numbers(row[-3:])
        assert len(accs) == 3 and all(0 <= a <= 100 for a in accs), row
    results = tmp_path / 'results'
    for name in ('mnist_evidence.md', 'mnist_depth.md', 'mnist_depth.png'):
        assert (results / name).stat().st_size > 0, name
    assert (tmp_path / 'work' / 'teacher_mnist.pth').exists()


def test_step_speed_quick(tmp_path):
    out = _run([
        os.path.join(BENCH, 'step_speed.py'), '--quick', '--out',
        str(tmp_path / 'step_speed.md')
    ], cwd=str(tmp_path), timeout=600)
    labels = ['(a) floor', '(a2) floor, second copy', '(b) fitnets_mm stage 2',
              '(b-cl) fitnets_mm stage 2, channels_last',
              '(e) floor: hand-written truncated', '(c) fitnets_mm stage 1',
              '(c-cl) fitnets_mm stage 1, channels_last',
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
                   'channels_last stage 2 / stage 2',
                   'stage 1 / stage 2 peak memory'):
        assert _rows(out, target), target
    text = (tmp_path / 'step_speed.md').read_text()
    assert 'No GPU on this machine' in text and text.count('|') > 40
