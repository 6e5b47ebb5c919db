"""``fitnets_mm.compat.cpu_distributed``: mmengine DDP on CPU-only machines.

Each case runs in its own interpreter: a process group is process-global.
"""
import json
import subprocess
import sys
import textwrap
from typing import Dict

import pytest
import torch

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(),
    reason='the fix only changes behaviour where CUDA is unavailable')

# Start a one-process group the way mmengine does for ``--launcher pytorch``,
# then wrap a CPU module as ``Runner.wrap_model`` does, reporting each step.
_SCRIPT = '''
import json, os, warnings
import torch
os.environ.update(RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
                  MASTER_ADDR='127.0.0.1', MASTER_PORT='{port}')
if {patch}:
    from fitnets_mm.compat import patch_cpu_distributed
    patch_cpu_distributed()
from mmengine.dist import init_dist
from mmengine.model import MMDistributedDataParallel

report = {{}}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    try:
        init_dist('pytorch', backend='{backend}')
        report['init'] = 'ok'
    except Exception as err:
        report['init'] = f'{{type(err).__name__}}: {{err}}'
report['warnings'] = [str(w.message) for w in caught]
if not torch.distributed.is_initialized():
    torch.distributed.init_process_group('gloo')
report['backend'] = torch.distributed.get_backend()
try:
    model = MMDistributedDataParallel(
        module=torch.nn.Linear(3, 1), device_ids=[0],
        broadcast_buffers=False)
    model(torch.ones(2, 3)).sum().backward()
    report['ddp'] = 'ok'
except Exception as err:
    report['ddp'] = f'{{type(err).__name__}}: {{err}}'
torch.distributed.destroy_process_group()
print('REPORT', json.dumps(report))
'''


def _run(port: int, patch: bool, backend: str) -> Dict[str, object]:
    code = _SCRIPT.format(port=port, patch=patch, backend=backend)
    proc = subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines()
                if ln.startswith('REPORT '))
    return json.loads(line[len('REPORT '):])


def test_unpatched_mmengine_fails_on_cpu(free_port: int) -> None:
    report = _run(free_port, patch=False, backend='gloo')
    assert report['init'] != 'ok'  # torch.cuda.set_device without a GPU
    assert report['ddp'].startswith('ValueError')  # device_ids on CPU
    assert 'device_ids' in report['ddp']


def test_patched_gloo_starts_and_wraps_cpu_module(free_port: int) -> None:
    report = _run(free_port, patch=True, backend='gloo')
    assert report['init'] == 'ok'
    assert report['backend'] == 'gloo'
    assert report['ddp'] == 'ok'


def test_patched_nccl_default_falls_back_to_gloo(free_port: int) -> None:
    report = _run(free_port, patch=True, backend='nccl')
    assert report['init'] == 'ok'
    assert report['backend'] == 'gloo'
    assert any('gloo' in w for w in report['warnings'])


def test_patch_is_idempotent() -> None:
    from mmengine.dist import utils as dist_utils
    from mmengine.model import MMDistributedDataParallel

    from fitnets_mm.compat import patch_cpu_distributed
    patch_cpu_distributed()
    init, ddp_init = (dist_utils._init_dist_pytorch,
                      MMDistributedDataParallel.__init__)
    patch_cpu_distributed()
    assert dist_utils._init_dist_pytorch is init
    assert MMDistributedDataParallel.__init__ is ddp_init
