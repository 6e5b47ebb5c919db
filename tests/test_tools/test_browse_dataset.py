"""MMPretrain's own ``tools/visualization/browse_dataset.py`` on a config,
as ``docs/en/notes/tools_and_errors.md`` shows it."""
import os
import os.path as osp
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from utils.doc_blocks import commands, doc_block

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = (REPO_ROOT / 'configs' / 'fitnets' / 'paper' /
          'fitnets_maxout-teacher-student_1xb128_mnist.py')


def _browse_dataset() -> str:
    import mmpretrain
    return osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'tools',
                    'visualization', 'browse_dataset.py')


def test_browse_dataset_draws_the_training_images(mnist_root: Path,
                                                  tmp_path: Path) -> None:
    script = _browse_dataset()
    if not osp.isfile(script):
        pytest.skip(f'{script} is not installed with MMPretrain')
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get('PYTHONPATH', '')) if p)
    env.update(OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    find, browse = commands(doc_block('browse-dataset'))
    name, _, finder = find.partition('=')
    assert name == 'MMPRETRAIN' and finder.startswith('$(python -c ')
    where = subprocess.run(['bash', '-c', f'{find}\necho "$MMPRETRAIN"'],
                           env=dict(env, PATH=osp.dirname(sys.executable) +
                                    os.pathsep + env.get('PATH', '')),
                           capture_output=True, text=True, timeout=300,
                           check=True).stdout.strip()
    args = shlex.split(browse)
    assert args[0] == 'python'
    assert args[1].replace('$MMPRETRAIN', where) == script
    assert REPO_ROOT / args[2] == CONFIG
    assert args[3:] == ['--not-show', '-o', 'browse', '-n', '8']
    # 3 images instead of 8, from the test's MNIST folder.
    out = tmp_path / 'browse'
    proc = subprocess.run(
        [sys.executable, script, str(CONFIG), *args[3:-1], '3', '--mode',
         'original', '--cfg-options',
         f'train_dataloader.dataset.data_root={mnist_root}'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    # Failed with "Visualizer.__init__() got an unexpected keyword argument
    # '_scope_'" while the visualizer was inherited from mmpretrain::.
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ['0.jpg', '1.jpg',
                                                     '2.jpg']
