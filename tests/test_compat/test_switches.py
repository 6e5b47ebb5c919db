"""``fitnets_mm.compat.switches``: fixes can be turned off, and each says
once in the log when it takes effect."""
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import torch
from mmengine.runner import CheckpointLoader

from fitnets_mm.compat import switches
from fitnets_mm.fileio.atomic_checkpoint import atomic_write

PROBE = '''
import fitnets_mm
from mmengine.fileio.backends import registry_utils
from mmengine.runner.checkpoint import CheckpointLoader
print(registry_utils.backends['local'].__name__,
      CheckpointLoader._schemes[''].__name__)
'''


def _probe(off: str) -> str:
    env = dict(__import__('os').environ, FITNETS_MM_COMPAT_OFF=off,
               PYTHONWARNINGS='ignore')
    out = subprocess.run([sys.executable, '-c', PROBE], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.split('\n')[-2]


def test_fixes_can_be_turned_off() -> None:
    from mmengine.fileio.backends import registry_utils
    on = (registry_utils.backends['local'].__name__,
          CheckpointLoader._schemes[''].__name__)
    assert ' '.join(on) == 'AtomicLocalBackend _load_from_local'
    assert _probe('atomic_checkpoint,safe_checkpoint') == \
        'LocalBackend load_from_local'  # mmengine's own


def test_unknown_fix_is_named_once_and_ignored(
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    import fitnets_mm_startup
    monkeypatch.setattr(fitnets_mm_startup, '_warned', set())
    monkeypatch.setenv('FITNETS_MM_COMPAT_OFF', 'safe_chekpoint,mmcls_scope')
    for _ in range(3):
        assert switches.enabled('safe_checkpoint')  # the typo is ignored
        assert not switches.enabled('mmcls_scope')  # the known name counts
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "unknown fixes ['safe_chekpoint'], ignored" in lines[0]
    with pytest.raises(ValueError, match="'everything'"):
        switches.enabled('everything')  # a wrong name in code is a bug


def test_announced_once_when_taking_effect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said: List[str] = []
    import fitnets_mm_startup
    import mmengine.logging
    monkeypatch.setattr(fitnets_mm_startup, '_announced', set())
    monkeypatch.setattr(mmengine.logging, 'print_log',
                        lambda msg, **kwargs: said.append(msg))
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(1))), str(path))
    assert said == []  # nothing until a fix acts
    for _ in range(2):
        CheckpointLoader.load_checkpoint(str(path))
        atomic_write(tmp_path / 'out.txt', b'x')
    assert len(said) == 2
    assert said[0].startswith('fitnets_mm.compat.safe_checkpoint: ')
    assert said[1].startswith('fitnets_mm.compat.atomic_checkpoint: ')
    assert all('FITNETS_MM_COMPAT_OFF=' in s for s in said)
