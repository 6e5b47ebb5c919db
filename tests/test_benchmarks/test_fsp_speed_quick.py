"""benchmarks/fsp_speed_of_convergence.py --quick runs through the Runner
and writes a complete table and plot."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'benchmarks' / 'fsp_speed_of_convergence.py'


@pytest.mark.slow
def test_fsp_speed_quick(tmp_path: Path, mnist_root: Path) -> None:
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    args = [sys.executable, str(SCRIPT), '--quick', '--out',
            str(tmp_path / 'work'), '--data', str(mnist_root)]
    proc = subprocess.run(args, cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for regime in ('backprop', 'FitNets-init', 'FSP-init'):
        rows = [ln for ln in out.splitlines()
                if ln.startswith(f'| {regime} | ')]
        # the mean row (one epoch) and the per-seed row
        assert len(rows) == 2, out
        accs = [float(a) for a in re.findall(r'(\d+\.\d+)', rows[1])]
        assert len(accs) == 1 and 0 <= accs[0] <= 100, rows[1]
    # the two-stage runs logged their stage-1 losses through the Runner
    logs = '\n'.join(p.read_text() for p in (tmp_path / 'work').rglob('*.log'))
    assert 'hint.loss_ht' in logs and 'fsp.loss_fsp0' in logs
    for name in ('fsp_speed.md', 'fsp_speed.png'):
        assert (tmp_path / 'work' / name).stat().st_size > 0, name
    # a second run reuses the finished runs
    again = subprocess.run(args, cwd=str(tmp_path), env=env,
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and 'Epoch(train)' not in again.stdout + \
        again.stderr
