"""Every config keeps the parts every run of its kind needs.

A leaf config that restates a list from its ``_base_`` (``custom_hooks``)
replaces it, silently dropping what the base put there: five two-stage
configs once lost ``HintStageHook`` that way (issue 19). The parts live in
``default_hooks`` (``configs/_base_/default_runtime.py``), a dict that a
leaf merges into and cannot drop by accident, and ``FitNetsTrainLoop`` adds
any a config still lacks. This test merges every config under
``configs/`` (mmengine's ``Config.fromfile``) and checks what it keeps.
"""
import glob
import os.path as osp
from pathlib import Path
from typing import List

import pytest
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[2]
ALL_CONFIGS = sorted(glob.glob(str(REPO / 'configs' / '**' / '*.py'),
                               recursive=True))
#: What every run needs: a non-finite loss or weight stops it.
EVERY_RUN = ('FiniteLossGuardHook', 'FiniteWeightsGuardHook')
#: What a run with a stage 1 needs too: hint_stage_last.pth.
TWO_STAGE = EVERY_RUN + ('HintStageHook', )


def _hook_names(cfg: Config) -> List[str]:
    hooks = [h for h in (cfg.get('default_hooks') or {}).values() if h]
    hooks += list(cfg.get('custom_hooks') or [])
    return [str(h.get('type', '')).rpartition('.')[2] for h in hooks]


def test_every_config_is_checked() -> None:
    assert len(ALL_CONFIGS) > 30
    assert any('_base_' in p for p in ALL_CONFIGS)


@pytest.mark.parametrize(
    'config', ALL_CONFIGS, ids=[osp.relpath(c, REPO) for c in ALL_CONFIGS])
def test_config_keeps_the_parts_its_runs_need(config: str) -> None:
    cfg = Config.fromfile(config)
    train_cfg = cfg.get('train_cfg') or {}
    if 'model' not in cfg or not train_cfg:
        return  # a fragment (dataset, model, schedule) that leaves combine
    two_stage = 'FitNetsTrainLoop' in str(train_cfg.get('type', '')) and \
        bool(train_cfg.get('hint_epochs'))
    if not two_stage and 'fitnets_mm' not in str(cfg.get('custom_imports')):
        return  # a plain MMPretrain config (students/), free of fitnets_mm
    names = _hook_names(cfg)
    wrong = {name: names.count(name)
             for name in (TWO_STAGE if two_stage else EVERY_RUN)
             if names.count(name) != 1}
    assert not wrong, (f'{osp.relpath(config, REPO)} has {wrong} of these '
                       f'hooks, expected one each; hooks: {names}')
