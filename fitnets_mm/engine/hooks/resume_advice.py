"""What to run after a run diverged, as a command that works in its work
dir."""
import os.path as osp
from typing import Any, Optional

__all__ = ['resume_advice']


def _config_path(runner: Any) -> str:
    """The config the run was started with, else the copy the runner dumped
    into its work dir, else ``CONFIG``."""
    cfg = getattr(runner, 'cfg', None)
    filename: Optional[str] = getattr(cfg, 'filename', None)
    if filename and osp.isfile(filename):
        return filename
    dumped = osp.join(runner.work_dir, f'{runner.timestamp}.py')
    return dumped if osp.isfile(dumped) else 'CONFIG'


def _last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names, if it is still there."""
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    with open(record) as f:
        path = f.read().strip()
    return path if path and osp.isfile(path) else None


def resume_advice(runner: Any) -> str:
    """The command that continues a diverged run with a lower learning rate.

    With a checkpoint in the work dir, ``--resume`` from it with
    ``--reset-lr`` (``--resume`` alone restores the saved learning rate);
    without one, a fresh start, since there is nothing to resume.

    Args:
        runner (Runner): The runner of the diverged run.

    Returns:
        str: One sentence with the command, ``LR`` standing for the new
        learning rate.
    """
    work_dir = runner.work_dir
    config = _config_path(runner)
    checkpoint = _last_checkpoint(work_dir)
    if checkpoint is None:
        return (f'No checkpoint was saved in {work_dir} yet, so there is '
                'nothing to resume: start again with a lower learning rate, '
                f'python tools/train.py {config} --work-dir {work_dir} '
                '--cfg-options optim_wrapper.optimizer.lr=LR')
    return ('Resume from the last checkpoint with a lower learning rate, '
            f'python tools/train.py {config} --work-dir {work_dir} --resume '
            f'{checkpoint} --reset-lr --cfg-options '
            'optim_wrapper.optimizer.lr=LR (without --reset-lr, --resume '
            'restores the saved learning rate)')
