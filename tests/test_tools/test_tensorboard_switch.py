"""The README's TensorBoard switch, in a config and on the command line."""
from pathlib import Path

import pytest
from mmengine.config import Config, DictAction

import fitnets_mm  # noqa: F401

pytest.importorskip('tensorboard')

REPO_ROOT = Path(__file__).resolve().parents[2]


def _events(visualizer_cfg: dict, save_dir: Path) -> list:
    from mmpretrain.registry import VISUALIZERS
    cfg = dict(visualizer_cfg)
    cfg['name'] = f'tb_{save_dir.name}'
    cfg['save_dir'] = str(save_dir)
    visualizer = VISUALIZERS.build(cfg)
    visualizer.add_scalars({'hint.loss_ht': 1.0}, step=1)
    visualizer.close()
    return sorted(p.name for p in save_dir.rglob('events.out.tfevents*'))


def test_config_switch(tmp_path: Path) -> None:
    leaf = tmp_path / 'with_tb.py'
    leaf.write_text(
        f"_base_ = [{str(REPO_ROOT / 'configs' / 'fitnet_cifar10.py')!r}]\n"
        "visualizer = dict(vis_backends=[dict(type='LocalVisBackend'), "
        "dict(type='TensorboardVisBackend')])\n")
    cfg = Config.fromfile(str(leaf))
    assert _events(cfg.visualizer, tmp_path / 'a')
    assert list((tmp_path / 'a').rglob('scalars.json'))


def test_command_line_switch(tmp_path: Path) -> None:
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'fitnet_cifar10.py'))
    parser = __import__('argparse').ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(
        ['--cfg-options', 'visualizer.vis_backends.0.type='
         'TensorboardVisBackend'])
    cfg.merge_from_dict(args.cfg_options)
    assert _events(cfg.visualizer, tmp_path / 'b')
