"""FitNets end to end on real digits, through ``tools/train.py``.

A tiny teacher is trained on 2,000 real MNIST digits, then a thinner,
deeper student is trained from it with both FitNets stages in one run (Adam,
fresh stage-2 optimizer state). The student must end well above chance
(10 %), with a threshold far below the spread measured over seeds, and the
log must show both stages with their loss names and the lambda schedule.
"""
import re
from pathlib import Path
from typing import Callable

from conftest import REPO_ROOT, write_leaf_config

CONFIGS = REPO_ROOT / 'tests' / 'data' / 'configs'


def _last_accuracy(output: str) -> float:
    found = re.findall(r'Epoch\(val\) \[\d+\]\[\d+/\d+\]\s+accuracy/top1: '
                       r'([\d.]+)', output)
    assert found, output[-3000:]
    return float(found[-1])


def test_teacher_then_two_stage_fitnets(mnist_root: Path, tmp_path: Path,
                                        run_cli: Callable) -> None:
    teacher_cfg = write_leaf_config(tmp_path / 'teacher.py',
                                    CONFIGS / 'e2e_teacher_mnist.py',
                                    mnist_root)
    teacher_dir = tmp_path / 'teacher'
    out = run_cli(['python', 'tools/train.py', teacher_cfg, '--work-dir',
                   teacher_dir], timeout=300).stdout
    teacher_acc = _last_accuracy(out)
    assert teacher_acc > 85.0, out[-3000:]  # measured 93.9-94.9 %

    fitnets_cfg = write_leaf_config(tmp_path / 'fitnets.py',
                                    CONFIGS / 'e2e_fitnets_mnist.py',
                                    mnist_root)
    out = run_cli([
        'python', 'tools/train.py', fitnets_cfg, '--work-dir',
        tmp_path / 'fitnets', '--cfg-options',
        f'model.teacher_ckpt={teacher_dir / "epoch_2.pth"}'
    ], timeout=400).stdout

    assert 'FitNets stage 1 (hint) from epoch 1' in out
    assert 'FitNets stage 2 (kd) from epoch 2' in out
    train_lines = [ln for ln in out.splitlines() if 'Epoch(train)' in ln]
    assert any('hint.loss_ht' in ln for ln in train_lines)
    assert any('distill.loss_kd' in ln and 'lambda_loss_kd' in ln
               for ln in train_lines)
    # The teacher is evaluated once and matches its own training run.
    assert out.count('Teacher (evaluated once') == 1
    student_acc = _last_accuracy(out)
    # Measured over seeds 0-4 (randomness.seed) on a 2-core AMD EPYC
    # (AVX2, Zen), torch 2.14: teacher 93.9-94.9 %, student 89.9-92.3 %
    # (chance is 10 %). The previous recipe (SGD 0.1) gave 89.8 % on an
    # Intel machine and 62.7 %, 30.3 % and 78.5 % on AMD ones.
    assert student_acc > 70.0, out[-3000:]
