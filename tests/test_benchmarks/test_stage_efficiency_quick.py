"""``benchmarks/stage_efficiency.py --quick``: a step's fraction of the
matmul peak per stage, with the noise control and the per-layer tables."""
import math
import re

import pytest

from utils.benchmarks import load_benchmark


@pytest.mark.slow  # builds the CIFAR-10 main pair three times (~40 s)
def test_stage_efficiency_quick(tmp_path, capsys):
    bench = load_benchmark('stage_efficiency')
    out = tmp_path / 'eff.md'
    report = bench.main(['--quick', '--per-layer', '--out', str(out)])
    rows = {line.split('|')[1].strip(): line for line in report.splitlines()
            if line.startswith('| stage')}
    assert set(rows) == {'stage1', 'stage2', 'stage2_copy'}
    for line in rows.values():
        numbers = [float(x) for x in re.findall(r'\d+\.\d+', line)]
        assert len(numbers) == 5 and all(math.isfinite(n) and n > 0
                                         for n in numbers), line
    # the shipped config: stage 1 has fewer FLOPs than stage 2
    gflop = {k: float(v.split('|')[2]) for k, v in rows.items()}
    assert gflop['stage1'] < gflop['stage2'] == gflop['stage2_copy']
    assert 'noise control, stage 2 copy minus stage 2' in report
    # per layer: the regressor (3x3, 256 -> 128) is stage 1's
    assert '| regressor |' in report
    assert '256->128 k3' in report
    assert report.count('### stage') == 2
    assert 'No GPU' not in report and 'CPU only' in out.read_text()
