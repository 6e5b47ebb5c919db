"""A config chooses the atomic file backend by name, switch on or off."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_config_chooses_atomic_local_with_the_switch_off(
        tmp_path: Path) -> None:
    """``FITNETS_MM_COMPAT_OFF=atomic_checkpoint`` leaves mmengine's local
    backend for every path; ``backend_args=dict(backend='atomic_local')``
    still writes a checkpoint atomically."""
    code = f"""
        import fitnets_mm, torch
        from mmengine.fileio import get_file_backend
        from mmengine.runner.checkpoint import save_checkpoint
        import fitnets_mm.fileio.atomic_checkpoint as atomic
        writes = []
        real = atomic.atomic_write
        atomic.atomic_write = lambda path, data: (writes.append(str(path)),
                                                  real(path, data))
        target = {str(tmp_path / 'epoch_1.pth')!r}
        plain = type(get_file_backend(target)).__name__
        chosen = get_file_backend(target, backend_args=dict(
            backend='atomic_local'))
        save_checkpoint(dict(state_dict=dict(w=torch.ones(1))), target,
                        backend_args=dict(backend='atomic_local'))
        print('RESULT', plain, type(chosen).__name__, writes == [target])
        """
    proc = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
        text=True, timeout=300, cwd=REPO_ROOT,
        env={**os.environ, 'FITNETS_MM_COMPAT_OFF': 'atomic_checkpoint'})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = [line.split()[1:] for line in proc.stdout.splitlines()
              if line.startswith('RESULT')][0]
    assert result == ['LocalBackend', 'AtomicLocalBackend', 'True']
    assert (tmp_path / 'epoch_1.pth').is_file()
