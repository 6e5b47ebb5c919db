"""``fitnets_mm.analysis.learning_curves`` and tools/analysis/analyze_logs.py."""
import json
from pathlib import Path
from typing import Callable, List

import numpy as np
import pytest
from PIL import Image

from fitnets_mm.analysis.learning_curves import (load_scalars,
                                                 plot_learning_curves,
                                                 split_stages)


def _two_stage_records() -> List[dict]:
    """As mmengine logs a FitNets run: 2 hint epochs, then 2 KD epochs."""
    records = []
    for epoch in (1, 2):
        for i in (1, 2):
            it = (epoch - 1) * 2 + i
            records.append({'lr': 1e-3, 'lambda_loss_kd': 4.0,
                            'loss': 9000.0 / it, 'hint.loss_ht': 9000.0 / it,
                            'epoch': epoch, 'iter': it, 'step': it})
        records.append({'accuracy/top1': 11.0 + epoch, 'step': epoch})
    for epoch in (3, 4):
        for i in (1, 2):
            it = (epoch - 1) * 2 + i
            records.append({'lr': 1e-3, 'lambda_loss_kd': 4.0 - it / 4,
                            'loss': 6.0 / it, 'student.loss': 2.0 / it,
                            'distill.loss_kd': 4.0 / it, 'epoch': epoch,
                            'iter': it, 'step': it})
        records.append({'accuracy/top1': 60.0 + epoch, 'step': epoch})
    return records


@pytest.fixture
def scalars(tmp_path: Path) -> Path:
    path = tmp_path / 'scalars.json'
    path.write_text(''.join(json.dumps(r) + '\n'
                            for r in _two_stage_records()))
    return path


def test_split_stages_handles_keys_missing_in_the_other_stage(
        scalars: Path) -> None:
    curves = split_stages(load_scalars(scalars))
    assert len(curves.hint) == 4 and len(curves.kd) == 4
    assert len(curves.val) == 4
    assert curves.switch_iter == 5 and curves.switch_epoch == 3
    assert curves.loss_keys('hint') == ['loss', 'hint.loss_ht']
    assert curves.loss_keys('kd') == ['loss', 'student.loss',
                                      'distill.loss_kd']
    assert curves.val_keys() == ['accuracy/top1']


def test_plot_writes_a_png_with_three_panels(scalars: Path,
                                             tmp_path: Path) -> None:
    import matplotlib.pyplot as plt
    curves = split_stages(load_scalars(scalars))
    out = plot_learning_curves(curves, tmp_path / 'curves.png')
    image = np.asarray(Image.open(out))
    assert image.shape[1] == 3.75 * image.shape[0]  # three 5 x 4 in panels
    assert not plt.get_fignums()  # closed


def test_plain_run_gets_one_training_panel(tmp_path: Path) -> None:
    records = [r for r in _two_stage_records()
               if not any(k.startswith('hint.') for k in r)]
    curves = split_stages(records)
    assert curves.switch_iter is None and not curves.hint
    out = plot_learning_curves(curves, tmp_path / 'plain.png')
    image = np.asarray(Image.open(out))
    assert image.shape[1] == 2.5 * image.shape[0]  # two 5 x 4 in panels


def test_bad_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / 'scalars.json'
    path.write_text('{"loss": 1, "iter": 1}\nnot json\n')
    with pytest.raises(ValueError, match=r'scalars.json:2 is not a JSON'):
        load_scalars(path)


def test_analyze_logs_tool(scalars: Path, tmp_path: Path,
                           run_cli: Callable) -> None:
    out = tmp_path / 'curves.png'
    proc = run_cli(['python', 'tools/analysis/analyze_logs.py', scalars,
                    '--out', out])
    assert out.is_file()
    assert 'switch to stage 2 at iteration 5 (epoch 3)' in proc.stdout
    assert 'val accuracy/top1: last 64 (epoch 4), best 64 (epoch 4)' in \
        proc.stdout
