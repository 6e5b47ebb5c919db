"""benchmarks/study_runs.py: the command of a run parses as tools/train.py
reads it, resuming when the work dir has a checkpoint."""
import importlib.util
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
