"""Test (and evaluate) a checkpoint.

Usage::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR]
        [--out FILE [--out-item {metrics,pred}]] [--show-dir DIR] [--tta]
        [--cfg-options K=V ...] [--launcher {none,pytorch,slurm,mpi}] [--debug]

For a distillation config the checkpoint of the whole algorithm is loaded
and its student is evaluated; the model's ``teacher_ckpt`` is not loaded
(the checkpoint holds the teacher), so it need not be on disk. Importing :mod:`fitnets_mm` applies its
compatibility fixes (checkpoints load with the safe loader on every torch
2.x); fitnets_mm, MMRazor and MMPretrain modules are all registered.

``--show-dir`` and ``--tta`` are MMPretrain's: the prediction pictures of
MMPretrain's ``VisualizationHook``, and test-time augmentation of the
config's ``tta_model`` / ``tta_pipeline`` (a distillation config that
inherits its student's config has the student's), else MMPretrain's flip
average; the TTA model wraps the algorithm, whose predictions are the
student's. The arguments and paths are checked before the heavy
imports; an error is one line (``--debug`` or ``FITNETS_MM_DEBUG=1`` show
the traceback).
"""
import argparse
import os
import os.path as osp
from copy import deepcopy
from typing import Optional

import fitnets_mm_cli
from mmengine.config import Config, ConfigDict, DictAction


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a checkpoint')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument(
        '--work-dir', help='the dir to save the evaluation metrics in')
    parser.add_argument('--out', help='the file to write the results to')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='what --out holds: the metrics (any mmengine.dump format, e.g. '
        '.json) or the predictions (.pkl). Defaults to the predictions.')
    parser.add_argument(
        '--show-dir',
        help='draw each test image with its prediction into this folder '
        '(a relative path is read from the current folder)')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='with --show-dir: draw every N-th image. Defaults to 1.')
    parser.add_argument(
        '--tta',
        action='store_true',
        help="test-time augmentation: the config's tta_model and "
        'tta_pipeline, else the flip average of MMPretrain')
    parser.add_argument(
        '--amp', action='store_true', help='test in mixed precision')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable the pin_memory option of the dataloader')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs merged '
        'into it; a list is key="[a,b]" or key=a,b, no white space allowed')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    fitnets_mm_cli.add_debug_argument(parser)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out FILE to write to')
    if args.show_dir and args.tta:
        # MMPretrain's VisualizationHook draws batches of single images.
        parser.error('--show-dir cannot draw --tta batches (several views '
                     'per image); use one of them')
    return args


def _skip_teacher_ckpt(cfg: Config) -> Optional[str]:
    """Build a distillation model without loading ``teacher_ckpt``.

    The checkpoint under test is loaded over the whole algorithm, its
    ``teacher.*`` weights included, and only the student is evaluated, so
    the teacher's own file is not needed (it may be a URL out of reach, or
    gone from disk).

    Returns:
        str | None: What was skipped, for the log; None if nothing.
    """
    model = cfg.get('model')
    if isinstance(model, dict) and isinstance(model.get('module'), dict):
        model = model.module  # wrapped by --tta
    if not (isinstance(model, dict) and model.get('teacher_ckpt')):
        return None
    note = (f'Not loading teacher_ckpt {model.teacher_ckpt!r}: the teacher '
            'comes from the checkpoint under test, and only the student is '
            'evaluated.')
    model.teacher_ckpt = None
    return note


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command-line arguments into the config.

    Args:
        cfg (Config): The loaded config.
        args (argparse.Namespace): The parsed command line.

    Returns:
        Config: ``cfg``, updated in place.
    """
    cfg.launcher = args.launcher

    # work_dir: command line > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True

    if cfg.get('test_dataloader', None) is not None:
        dataloader_cfg = deepcopy(
            ConfigDict(pin_memory=True,
                       collate_fn=dict(type='default_collate')))
        dataloader_cfg.update(cfg.test_dataloader)
        if args.no_pin_memory:
            dataloader_cfg.pin_memory = False
        cfg.test_dataloader = dataloader_cfg

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if getattr(args, 'show_dir', None):
        _enable_visualization(cfg, args.show_dir, args.interval)
    if getattr(args, 'tta', False):
        _enable_tta(cfg)
    return cfg


def _enable_visualization(cfg: Config, show_dir: str, interval: int) -> None:
    """Turn MMPretrain's ``VisualizationHook`` on, drawing into ``show_dir``.

    Args:
        cfg (Config): The config, changed in place.
        show_dir (str): The folder for the pictures.
        interval (int): Draw every ``interval``-th image.
    """
    hooks = cfg.setdefault('default_hooks', ConfigDict())
    hook = hooks.get('visualization') or ConfigDict(
        type='mmpretrain.VisualizationHook')
    hook.update(enable=True, out_dir=show_dir, interval=interval)
    hooks['visualization'] = hook
    if cfg.get('visualizer') is None:
        cfg.visualizer = ConfigDict(
            type='mmpretrain.UniversalVisualizer',
            vis_backends=[dict(type='LocalVisBackend')])


def _enable_tta(cfg: Config) -> None:
    """Wrap the model for test-time augmentation, as MMPretrain's test.py.

    Args:
        cfg (Config): The config, changed in place.
    """
    if 'tta_model' not in cfg:
        cfg.tta_model = ConfigDict(type='mmpretrain.AverageClsScoreTTA')
    if 'tta_pipeline' not in cfg:
        test_pipeline = cfg.test_dataloader.dataset.pipeline
        cfg.tta_pipeline = deepcopy(test_pipeline)
        cfg.tta_pipeline[-1] = ConfigDict(
            type='TestTimeAug',
            transforms=[[
                dict(type='RandomFlip', prob=1.),
                dict(type='RandomFlip', prob=0.)
            ], [test_pipeline[-1]]])
    cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline


def main() -> None:
    """Build the runner from the config, load the checkpoint and test."""
    args = parse_args()
    fitnets_mm_cli.check_config_path(args.config)
    fitnets_mm_cli.check_input_path(args.checkpoint, 'checkpoint')

    import fitnets_mm  # noqa: F401  (applies fitnets_mm.compat, registers)
    import mmengine
    import mmpretrain.utils
    import mmrazor.utils
    from mmengine.evaluator import DumpResults
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    mmpretrain.utils.register_all_modules(init_default_scope=False)
    mmrazor.utils.register_all_modules(False)

    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    note = _skip_teacher_ckpt(cfg)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if note:
        runner.logger.info(note)

    if args.out and args.out_item in ('pred', None):
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))

    metrics = runner.test()

    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    fitnets_mm_cli.run(main)
