"""Train a model (a FitNets distillation, or any MMRazor / MMPretrain config).

Usage::

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]]
        [--reset-lr] [--amp] [--no-validate] [--auto-scale-lr] [--cfg-options K=V ...]
        [--launcher {none,pytorch,slurm,mpi}] [--debug]

Importing :mod:`fitnets_mm` applies its compatibility fixes (MMRazor on
PyTorch 2.x, safe checkpoint loading, CPU distributed training); the modules
of fitnets_mm, MMRazor and MMPretrain are all registered, so configs written
for any of the three resolve. The arguments and the config path are checked
first, before those imports; an error is one line (``--debug`` or
``FITNETS_MM_DEBUG=1`` show the traceback).
"""
import argparse
import os
import os.path as osp
from copy import deepcopy

import fitnets_mm_cli
from mmengine.config import Config, ConfigDict, DictAction


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the checkpoint PATH; without PATH, resume from the '
        'latest checkpoint in the work directory')
    parser.add_argument(
        '--reset-lr',
        action='store_true',
        help='with --resume: take the learning rate from the config (and '
        '--cfg-options optim_wrapper.optimizer.lr=LR) instead of the '
        'checkpoint; the schedule keeps its place')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size over '
        '`auto_scale_lr.base_batch_size`')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable the pin_memory option of the dataloaders')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='disable the persistent_workers option of the dataloaders')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs merged '
        'into it, e.g. env_cfg.dist_cfg.backend=gloo; a list is key="[a,b]" '
        'or key=a,b, no white space allowed')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank; torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    fitnets_mm_cli.add_debug_argument(parser)
    args = parser.parse_args()
    if args.reset_lr and args.resume is None:
        parser.error('--reset-lr needs --resume')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command-line arguments into the config.

    Args:
        cfg (Config): The loaded config.
        args (argparse.Namespace): The parsed command line.

    Returns:
        Config: ``cfg``, updated in place.
    """
    # Options first: ``--no-validate`` below must not turn a user's
    # ``val_dataloader.*`` option into a merge into None.
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher

    # work_dir: command line > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg:
            raise ValueError(
                '--auto-scale-lr needs `auto_scale_lr = dict('
                'base_batch_size=N)` in the config, but '
                f'{args.config} has no `auto_scale_lr`')
        cfg.auto_scale_lr.enable = True

    default_dataloader_cfg = ConfigDict(
        pin_memory=True,
        persistent_workers=True,
        collate_fn=dict(type='default_collate'),
    )

    def set_default_dataloader_cfg(field: str) -> None:
        if cfg.get(field, None) is None:
            return
        dataloader_cfg = deepcopy(default_dataloader_cfg)
        dataloader_cfg.update(cfg[field])
        cfg[field] = dataloader_cfg
        if args.no_pin_memory:
            cfg[field]['pin_memory'] = False
        if args.no_persistent_workers:
            cfg[field]['persistent_workers'] = False

    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_default_dataloader_cfg(field)

    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        # PyTorch refuses persistent workers without workers; checked after
        # --cfg-options, which may set num_workers=0.
        if cfg.get(field) and cfg[field].get('num_workers', 0) == 0:
            cfg[field]['persistent_workers'] = False
    return cfg


def main() -> None:
    """Build the runner from the config and train."""
    args = parse_args()
    fitnets_mm_cli.check_config_path(args.config)
    if args.resume not in (None, 'auto'):
        fitnets_mm_cli.check_input_path(args.resume, 'checkpoint')

    import fitnets_mm  # noqa: F401  (applies fitnets_mm.compat, registers)
    import mmpretrain.utils
    import mmrazor.utils
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from fitnets_mm.engine.hooks import ResetLearningRateHook
    mmpretrain.utils.register_all_modules(init_default_scope=False)
    mmrazor.utils.register_all_modules(False)

    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)

    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    if args.reset_lr:
        runner.register_hook(ResetLearningRateHook(), 'VERY_HIGH')
    runner.train()


if __name__ == '__main__':
    fitnets_mm_cli.run(main, training=True)
