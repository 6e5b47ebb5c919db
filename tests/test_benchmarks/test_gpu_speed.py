"""``benchmarks/gpu_speed.py``: refuses to run without a GPU unless
``--dry``, and its dry mode runs every section on the CPU."""
import re

import pytest
import torch

from utils.benchmarks import load_benchmark


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
def test_needs_a_gpu_or_dry(capsys) -> None:
    bench = load_benchmark('gpu_speed')
    with pytest.raises(SystemExit):
        bench.parse_args([])
    assert '--dry' in capsys.readouterr().err
    args = bench.parse_args(['--dry'])
    assert (args.batch, args.rounds, args.workers, args.out) == (2, 1, 0,
                                                                None)


def test_sections_can_be_skipped_and_the_budget_is_kept(tmp_path) -> None:
    bench = load_benchmark('gpu_speed')
    out = tmp_path / 'gpu.md'
    text = bench.main(['--dry', '--skip', 'steps,compile,loader,memory',
                       '--out', str(out)])
    assert text.count('skipped (--skip)') == 4
    text = bench.main(['--dry', '--budget', '-1', '--skip', 'steps'])
    assert text.count('over the --budget') == 3
    assert 'CPU (--dry: the numbers mean nothing)' in out.read_text()


@pytest.mark.slow  # builds the CIFAR-10 main pair ~15 times (minutes)
def test_dry_run_measures_every_section(tmp_path) -> None:
    bench = load_benchmark('gpu_speed')
    text = bench.main(['--dry', '--out', str(tmp_path / 'gpu.md')])
    for title in ('Steps against the floor', 'torch.compile',
                  'Loader throughput delivered to the device',
                  'Peak memory'):
        assert f'## {title}' in text, title
    assert 'skipped' not in text
    for label in bench.LABELS.values():
        assert f'| {label} |' in text, label
    for loader in ('config', 'batch-aug'):
        row = re.search(rf'\| {loader} \| 0 \| (\d+) ', text)
        assert row and int(row.group(1)) > 0, loader
    assert '| stage 1 / stage 2 |' in text
