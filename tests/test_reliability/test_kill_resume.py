"""Guarantee 2: exact resume after a hard kill.

A run killed with SIGKILL in the middle of stage 1 and again in the middle of
stage 2, each time resumed with ``--resume`` (auto), ends with weights bitwise
equal to an uninterrupted run. A kill while a checkpoint is written never
leaves a file that ``--resume auto`` picks up and cannot load.

Protections: :mod:`fitnets_mm.fileio.atomic_checkpoint` (atomic writes, the
``last_checkpoint`` fallback) and mmengine's resume of model, optimizer,
schedulers and message hub.
"""
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from utils import reliability as H
import pytest
import torch
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner import runner as mmengine_runner

from fitnets_mm.fileio import CorruptCheckpointError, safe_load
from fitnets_mm.fileio.atomic_checkpoint import find_latest_checkpoint


def _epoch_started(work_dir: Path, epoch: int) -> bool:
    pattern = re.compile(rf'Epoch\(train\)\s+\[{epoch}\]\[')
    return bool(pattern.search(H.log_text(str(work_dir))))


def _kill_in_epoch(proc: 'subprocess.Popen', work_dir: Path,
                   epoch: int) -> None:
    """SIGKILL ``proc`` once ``epoch`` has begun (its previous checkpoint
    saved), and check that it died before finishing that epoch."""
    H.wait_for(
        lambda: (work_dir / f'epoch_{epoch - 1}.pth').exists() and
        _epoch_started(work_dir, epoch),
        timeout=180, proc=proc, what=f'epoch {epoch} to start')
    proc.send_signal(signal.SIGKILL)
    H.kill_group(proc)
    assert proc.returncode == -signal.SIGKILL
    assert not (work_dir / f'epoch_{epoch}.pth').exists(), \
        f'the kill came too late: epoch {epoch} was finished'


def _truncate_copy(src: Path, dst: Path) -> None:
    """``dst``: the first half of ``src``, as a kill during its write
    would leave it without atomic writes."""
    data = src.read_bytes()
    dst.write_bytes(data[:len(data) // 2])


def test_kill_in_both_stages_resume_is_bitwise_exact(
        tmp_path: Path, teacher_ckpt: str) -> None:
    # 2 hint + 2 KD epochs of 6 iterations; the throttle gives the kill a
    # window of about half a second inside an epoch and changes no state.
    cfg = H.fitnets_cfg(str(tmp_path / 'unused'), teacher_ckpt,
                        hint_epochs=2, kd_epochs=2, num_samples=48,
                        throttle=0.08)
    config = H.dump_cfg(cfg, str(tmp_path / 'tiny_fitnets.py'))
    ref_dir, run_dir = tmp_path / 'ref', tmp_path / 'run'

    # The uninterrupted reference runs beside the interrupted chain.
    ref = H.start_train(config, str(ref_dir), log_name='ref')
    try:
        # Kill 1: in epoch 2 of 2 hint epochs (stage 1).
        run = H.start_train(config, str(run_dir), log_name='run1')
        _kill_in_epoch(run, run_dir, epoch=2)
        assert 'FitNets stage 2' not in H.log_text(str(run_dir))
        # A kill that also hit the write of epoch_2.pth: without atomic
        # writes a truncated file, named by last_checkpoint.
        _truncate_copy(run_dir / 'epoch_1.pth', run_dir / 'epoch_2.pth')
        (run_dir / 'last_checkpoint').write_text(
            str(run_dir / 'epoch_2.pth'))

        # Kill 2: resumed, then killed in epoch 4 (stage 2).
        run = H.start_train(config, str(run_dir), '--resume',
                            log_name='run2')
        _kill_in_epoch(run, run_dir, epoch=4)
        assert 'FitNets stage 2' in H.log_text(str(run_dir))
        # ... and this time the kill left last_checkpoint empty and a
        # truncated epoch_4.pth.
        _truncate_copy(run_dir / 'epoch_3.pth', run_dir / 'epoch_4.pth')
        (run_dir / 'last_checkpoint').write_text('')

        run = H.start_train(config, str(run_dir), '--resume',
                            log_name='run3')
        assert run.wait(timeout=300) == 0, H.output_of(str(run_dir), 'run3')
        assert ref.wait(timeout=300) == 0, H.output_of(str(ref_dir), 'ref')
    finally:
        H.kill_group(ref)

    log = H.log_text(str(run_dir))
    # Both resumes fell back to the newest loadable checkpoint.
    assert f'Resuming from {run_dir / "epoch_1.pth"}' in log
    assert f'Resuming from {run_dir / "epoch_3.pth"}' in log
    # Each resume continued where its checkpoint ended.
    assert 'resumed epoch: 1, iter: 6' in log
    assert 'resumed epoch: 3, iter: 18' in log

    final = H.checkpoint_state(str(run_dir / 'epoch_4.pth'))
    expected = H.checkpoint_state(str(ref_dir / 'epoch_4.pth'))
    student = [k for k in expected if k.startswith('architecture.')]
    assert student
    H.assert_bitwise_equal({k: final[k] for k in student},
                           {k: expected[k] for k in student},
                           'student weights after two kills and resumes')
    H.assert_bitwise_equal(final, expected, 'whole model state')


_DIE_WHILE_SAVING = textwrap.dedent('''
    import builtins, os, signal, sys
    import torch
    import fitnets_mm  # noqa: F401  (the protection under test)
    from mmengine.runner.checkpoint import save_checkpoint

    path = sys.argv[1]
    save_checkpoint(dict(state_dict=dict(w=torch.zeros(50000)),
                         message_hub=dict()), path)

    class DieHalfway:
        """A file whose first write stops the process half way."""

        def __init__(self, file):
            self._file = file

        def write(self, data):
            self._file.write(bytes(data)[:len(data) // 2])
            self._file.flush()
            os.fsync(self._file.fileno())
            os.kill(os.getpid(), signal.SIGKILL)

        def __getattr__(self, name):
            return getattr(self._file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._file.close()

    def dying(opener):
        def open_(file, mode='r', *args, **kwargs):
            handle = opener(file, mode, *args, **kwargs)
            return DieHalfway(handle) if 'w' in mode and 'b' in mode \\
                else handle
        return open_

    builtins.open = dying(builtins.open)
    os.fdopen = dying(os.fdopen)
    save_checkpoint(dict(state_dict=dict(w=torch.ones(50000)),
                         message_hub=dict()), path)
    print('not killed')
''')


def test_kill_during_checkpoint_write_keeps_old_checkpoint(
        tmp_path: Path) -> None:
    """A SIGKILL half way through mmengine's ``save_checkpoint`` (as used by
    ``Runner.save_checkpoint``) leaves the previous file whole."""
    path = tmp_path / 'epoch_1.pth'
    script = tmp_path / 'die_while_saving.py'
    script.write_text(_DIE_WHILE_SAVING)
    proc = subprocess.run([sys.executable, str(script), str(path)],
                          env=H.subprocess_env(), capture_output=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-3000:]
    state = safe_load(str(path), map_location='cpu')['state_dict']
    assert torch.equal(state['w'], torch.zeros(50000)), \
        'the old checkpoint was changed by the killed write'
    (tmp_path / 'last_checkpoint').write_text(str(path))
    assert find_latest_checkpoint(str(tmp_path)) == str(path)


def _save(path: Path, value: float, mtime: int) -> Path:
    torch.save(dict(meta=dict(), state_dict=dict(w=torch.full((4, ), value)),
                    message_hub=dict(), optimizer=dict()), str(path))
    os.utime(path, (mtime, mtime))
    return path


def test_resume_auto_never_picks_an_unloadable_checkpoint(
        tmp_path: Path) -> None:
    """Every way a kill can leave ``last_checkpoint`` and the newest file
    ends in the newest loadable checkpoint."""
    good = _save(tmp_path / 'epoch_1.pth', 1.0, 1_000)
    newer = _save(tmp_path / 'epoch_2.pth', 2.0, 2_000)
    _truncate_copy(newer, tmp_path / 'epoch_3.pth')
    os.utime(tmp_path / 'epoch_3.pth', (3_000, 3_000))
    # A zoo-style weights file is newer still, but not a training state.
    torch.save(dict(state_dict=dict(w=torch.zeros(4))),
               str(tmp_path / 'pretrained.pth'))
    save_file = tmp_path / 'last_checkpoint'
    cases = {
        'empty': '',
        'partial name': str(tmp_path / 'epoch_3.p'),
        'truncated file': str(tmp_path / 'epoch_3.pth'),
        'missing file': str(tmp_path / 'epoch_9.pth'),
        'not a checkpoint': str(save_file),
    }
    for case, content in cases.items():
        save_file.write_text(content)
        found = mmengine_runner.find_latest_checkpoint(str(tmp_path))
        assert found == str(newer), f'{case}: got {found}'
    save_file.write_text(str(good))
    assert mmengine_runner.find_latest_checkpoint(str(tmp_path)) == str(good)
    save_file.unlink()
    assert mmengine_runner.find_latest_checkpoint(str(tmp_path)) is None
    # Nothing loadable at all: start from the beginning, not crash.
    for name in ('epoch_1.pth', 'epoch_2.pth'):
        _truncate_copy(tmp_path / name, tmp_path / name)
    save_file.write_text('')
    assert mmengine_runner.find_latest_checkpoint(str(tmp_path)) is None
    # mmengine's resume and its public function go through the fallback.
    assert mmengine_runner.find_latest_checkpoint is find_latest_checkpoint
    assert mmengine_checkpoint.find_latest_checkpoint is \
        find_latest_checkpoint
    with pytest.raises(CorruptCheckpointError):
        safe_load(str(tmp_path / 'epoch_2.pth'))
