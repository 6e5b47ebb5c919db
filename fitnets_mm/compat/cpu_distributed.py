"""Let mmengine 0.10.7 train with several processes on CPU-only machines.

Two things stop ``bash tools/dist_train.sh CONFIG 2`` on a machine without
GPUs:

1. ``mmengine.dist.utils._init_dist_pytorch`` calls
   ``torch.cuda.set_device(local_rank)`` unconditionally, which raises where
   CUDA is unavailable; and its default backend, NCCL, needs GPUs.
2. ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to
   ``MMDistributedDataParallel``, which PyTorch rejects for CPU modules.

:func:`patch_cpu_distributed` wraps both, changing behaviour only where CUDA
is unavailable: process groups start without ``set_device`` (NCCL is replaced
by Gloo, with a warning), and DDP is built without device ids for modules
whose parameters live on the CPU. On GPU machines both delegate unchanged.

The same wrapper of ``_init_dist_pytorch`` (used by ``--launcher pytorch``,
i.e. ``torchrun``) also makes every rank end with its launcher and gives the
process group a timeout, on every device (see :mod:`.launcher_watchdog`).
"""
import functools
import os
import warnings
from typing import Any

import torch
from mmengine.logging import print_log

from ..dist.launcher_watchdog import (dist_timeout, exit_with_launcher,
                                explain_timeouts)
from .switches import announce_once

__all__ = ['patch_cpu_distributed']


def _cpu_init_dist_pytorch(original: Any) -> Any:

    @functools.wraps(original)
    def init(backend: str, init_backend: str = 'torch', **kwargs: Any) -> None:
        how = exit_with_launcher()
        on_cpu = not torch.cuda.is_available() and init_backend == 'torch'
        timeout = dist_timeout(kwargs, on_cpu)
        explain_timeouts(timeout)
        announce_once('cpu_distributed', 'ranks end with their launcher '
                      'and the process group has a timeout')
        print_log(
            f'Rank {os.environ.get("RANK", "?")} ends with its launcher '
            f'(PID {os.getppid()}, {how}); process-group timeout: '
            + ('the backend default' if timeout is None else
               f'{timeout.total_seconds():g} s') +
            ' (env_cfg.dist_cfg.timeout).', logger='current')
        if not on_cpu:
            return original(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            warnings.warn('CUDA is unavailable: using the gloo backend '
                          'instead of nccl for CPU training.')
            backend = 'gloo'
        torch.distributed.init_process_group(backend=backend, **kwargs)

    init.__fitnets_mm_patched__ = True
    return init


def _cpu_ddp_init(original: Any) -> Any:

    @functools.wraps(original)
    def __init__(self: Any, module: torch.nn.Module, *args: Any,
                 **kwargs: Any) -> None:
        first = next(module.parameters(), None)
        if first is not None and first.device.type == 'cpu':
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
        original(self, module, *args, **kwargs)

    __init__.__fitnets_mm_patched__ = True
    return __init__


def patch_cpu_distributed() -> None:
    """Install both CPU fixes (idempotent)."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import MMDistributedDataParallel
    if not getattr(dist_utils._init_dist_pytorch, '__fitnets_mm_patched__',
                   False):
        dist_utils._init_dist_pytorch = _cpu_init_dist_pytorch(
            dist_utils._init_dist_pytorch)
    if not getattr(MMDistributedDataParallel.__init__,
                   '__fitnets_mm_patched__', False):
        MMDistributedDataParallel.__init__ = _cpu_ddp_init(
            MMDistributedDataParallel.__init__)
