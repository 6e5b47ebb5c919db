"""``tools/model_converters/publish_model.py``: the published file and the
one-line error for a missing input."""
import subprocess
import sys
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[2]
TEACHER = {'backbone.conv.weight': torch.ones(2, 3),
           'head.fc.bias': torch.zeros(2)}


def _training_checkpoint(path: Path, state: dict) -> Path:
    torch.save(dict(meta=dict(epoch=1), state_dict=state,
                    optimizer=dict(state={}, param_groups=[])), path)
    return path


def test_tool_publishes_and_names_a_missing_input(tmp_path: Path) -> None:
    tool = REPO_ROOT / 'tools' / 'model_converters' / 'publish_model.py'
    src = _training_checkpoint(tmp_path / 'epoch_1.pth', TEACHER)
    proc = subprocess.run(
        [sys.executable, str(tool), str(src), str(tmp_path / 'teacher'),
         '--date', '20261202'], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    written = proc.stdout.strip().splitlines()[-1]
    assert Path(written).is_file()
    assert Path(written).name.startswith('teacher_20261202-')
    proc = subprocess.run(
        [sys.executable, str(tool), str(tmp_path / 'nope.pth'),
         str(tmp_path / 'x')], capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert 'Traceback' not in proc.stderr
    assert 'nope.pth' in proc.stderr.strip().splitlines()[-1]
