"""benchmarks/data_pipeline.py --quick runs end to end and prints complete,
finite tables (the benchmark is run by hand; this keeps it from rotting)."""
import math
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _rows(text: str, first_cell: str) -> list:
    return [[c.strip() for c in line.strip('|').split('|')]
            for line in text.splitlines() if line.startswith('|')
            and line.strip('|').split('|')[0].strip() == first_cell]


def _number(cell: str) -> float:
    return float(re.findall(r'-?\d+(?:\.\d+)?', cell.replace(',', ''))[0])


@pytest.mark.slow
def test_data_pipeline_quick(tmp_path) -> None:
    env = dict(os.environ, PYTHONWARNINGS='ignore', OMP_NUM_THREADS='1')
    out_md = tmp_path / 'data_pipeline.md'
    proc = subprocess.run(
        [sys.executable, os.path.join(REPO, 'benchmarks', 'data_pipeline.py'),
         '--quick', '--workers', '0,1', '--out', str(out_md)],
        cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=400)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    for name in ('pseudo_collate', 'config', 'config + packed_collate',
                 'batch-aug', 'batch-aug + packed_collate'):
        rows = [r for r in _rows(out, name) if len(r) == 6]
        assert [r[2] for r in rows] == ['0', '1'], out
        for row in rows:
            assert row[1] == 'torch.uint8'
            assert all(_number(c) > 0 for c in row[3:5]), row
        cpu = [r for r in _rows(out, name) if len(r) == 5]
        assert len(cpu) == 1 and all(_number(c) > 0 for c in cpu[0][1:]), out
    assert _rows(out, 'pseudo_collate')[0][5] == '1.00 x'
    for stage in ('stage2', 'stage1'):
        rows = _rows(out, stage)
        assert len(rows) == 2, out  # CIFAR-10 pair and ImageNet pair
        gflop = _number(rows[0][1])
        # counted from the model: 4.3 (stage 2) and 2.3 (stage 1) GFLOP
        assert 4.0 < gflop < 4.6 if stage == 'stage2' else 2.0 < gflop < 2.6
        workers = [int(w) for w in rows[1][3].split('/')]
        assert all(w >= 1 for w in workers), rows[1]
    per_worker = _rows(out, '1')
    assert per_worker and math.isfinite(_number(per_worker[-1][2]))
    assert 'No GPU on this machine' in out_md.read_text()
