"""After resuming into stage 2, the log shows no stage-1 loss.

The message hub restored from a stage-1 checkpoint holds the smoothed
``hint.loss_ht``; the first stage-2 log lines must not show it.

Protection: ``FitNetsTrainLoop`` forgets the other stage's losses when the
first epoch it runs is not the first of the run.
"""
import re
from pathlib import Path

from utils import reliability as H
from mmengine.runner import Runner


def test_resumed_stage_2_logs_no_stage_1_loss(tmp_path: Path,
                                              teacher_ckpt: str) -> None:
    cfg = H.fitnets_cfg(str(tmp_path / 'first'), teacher_ckpt,
                        hint_epochs=1, kd_epochs=1)
    cfg.experiment_name = f'stage_logs_{tmp_path.name}'
    Runner.from_cfg(cfg.copy()).train()
    resumed = cfg.copy()
    resumed.work_dir = str(tmp_path / 'resumed')
    resumed.load_from = str(tmp_path / 'first' / 'epoch_1.pth')
    resumed.resume = True
    resumed.experiment_name = f'stage_logs_resumed_{tmp_path.name}'
    Runner.from_cfg(resumed).train()
    lines = re.findall(r'Epoch\(train\) \[2\].*', H.log_text(
        str(tmp_path / 'resumed')))
    assert lines and all('distill.loss_kd' in line for line in lines)
    assert not [line for line in lines if 'hint.loss_ht' in line]
