"""benchmarks/study_runs.py: the command of a run parses as tools/train.py
reads it, resuming when the work dir has a checkpoint."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from utils.benchmarks import load_benchmark

runs = load_benchmark('study_runs')
REPO_ROOT = Path(__file__).resolve().parents[2]


def _train_args(cmd, monkeypatch):
    spec = importlib.util.spec_from_file_location(
        'train_tool', REPO_ROOT / 'tools' / 'train.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(sys, 'argv', cmd[1:])
    return tool.parse_args()


@pytest.mark.parametrize('unfinished', [False, True])
def test_train_command(tmp_path, monkeypatch, unfinished):
    work = tmp_path / 'run'
    work.mkdir()
    if unfinished:
        (work / 'last_checkpoint').write_text(str(work / 'epoch_3.pth'))
    cmd = runs.train_command('leaf.py', str(work), 7)
    args = _train_args(cmd, monkeypatch)
    assert args.config == 'leaf.py' and args.work_dir == str(work)
    assert args.cfg_options == {'randomness.seed': 7}
    # a68fb28..2dd2cdf put --resume between --work-dir and its value
    assert args.resume == ('auto' if unfinished else None)


def test_a_resumed_run_counts_every_sitting(tmp_path, monkeypatch):
    """A failed sitting, then a finished one: the result sums both (it kept
    only the last one's CPU time) and the log holds both."""
    attempts = iter([1, 0])

    def fake_command(leaf, work_dir, seed):
        code = next(attempts)
        return [sys.executable, '-c',
                f'print("{runs.RUNNER_START}none"); '
                f'print("Epoch(val) [{2 - code}] acc"); '
                f'sum(range(3 * 10**6)); raise SystemExit({code})']

    monkeypatch.setattr(runs, 'train_command', fake_command)
    summarise = lambda log: dict(vals=log.count('Epoch(val)'))  # noqa
    with pytest.raises(RuntimeError, match=r'failed \(exit code 1\)'):
        runs.train_leaf('r', 'x = 1\n', 0, str(tmp_path), summarise, {})
    result = runs.train_leaf('r', 'x = 1\n', 0, str(tmp_path), summarise,
                             dict(seed=0))
    assert result['vals'] == 2 and result['seed'] == 0
    assert result['sittings'] == 2 and result['unmeasured_sittings'] == 0
    sittings = json.loads((tmp_path / 'r' / 'sittings.json').read_text())
    assert [s['exit_code'] for s in sittings] == [1, 0]
    assert result['cpu'] == pytest.approx(sum(s['cpu'] for s in sittings))
    assert min(s['cpu'] for s in sittings) > 0
    # saved whole, and read back on the next call
    assert runs.train_leaf('r', '', 0, str(tmp_path), summarise, {}) == \
        result
    assert not list((tmp_path / 'runs').glob('*.tmp'))
