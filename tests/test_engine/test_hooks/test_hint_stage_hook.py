"""HintStageHook: the end-of-stage-1 checkpoint is kept; stage-1 validation
is explained."""

import pytest
import torch

from utils import toy_models as tm

from fitnets_mm.fileio.safe_checkpoint import safe_load
from fitnets_mm.engine.hooks import HintStageHook


@pytest.fixture(scope='module')
def trained(tmp_path_factory: pytest.TempPathFactory):
    work_dir = tmp_path_factory.mktemp('hint_stage')
    with tm.one_thread():
        runner = tm.build_runner(
            work_dir=str(work_dir),
            hint_epochs=2,
            kd_epochs=2,
            custom_hooks=[dict(type='HintStageHook')],
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=dict(type='CheckpointHook', interval=1,
                                max_keep_ckpts=1)),
            val_dataloader=tm.dataloader_cfg(),
            val_cfg=dict(type='TeacherOnceValLoop'),
            val_evaluator=dict(type='mmpretrain.Accuracy'))
        runner.train()
        log = tm.read_log(runner)
    tm.reset_runner_state()
    return work_dir, log


def test_end_of_stage1_checkpoint_is_kept(trained) -> None:
    work_dir, _ = trained
    # max_keep_ckpts=1 deleted epoch_2.pth; the hint-stage state survives.
    assert not (work_dir / 'epoch_2.pth').exists()
    assert (work_dir / 'epoch_4.pth').exists()
    kept = safe_load(str(work_dir / 'hint_stage_last.pth'))
    assert kept['meta']['epoch'] == 2
    assert any(k.startswith('regressors.') for k in kept['state_dict'])
    # --resume auto still follows CheckpointHook's files.
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith(
        'epoch_4.pth')
    assert all(torch.isfinite(v).all() for v in kept['state_dict'].values()
               if torch.is_tensor(v) and v.is_floating_point())


def test_stage1_validation_is_explained_only_in_stage1(trained) -> None:
    _, log = trained
    assert log.count('measures an untrained head') == 2
    assert 'End of FitNets stage 1 (hint) at epoch 2' in log
    last_explained = log.rindex('measures an untrained head')
    assert last_explained < log.index('FitNets stage 2 (kd)')


def test_filename_is_checked() -> None:
    with pytest.raises(ValueError, match="ending in .pth, but got 'x'"):
        HintStageHook(filename='x')
