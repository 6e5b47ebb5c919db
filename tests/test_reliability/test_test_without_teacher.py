"""``tools/test.py FITNETS_CONFIG CKPT`` needs no ``teacher_ckpt`` on disk:
the checkpoint holds the teacher and only the student is evaluated.

Protection: ``tools/test.py`` builds the model without ``teacher_ckpt``.
"""
from pathlib import Path

from utils import reliability as H
import pytest
from mmengine.runner import Runner


def test_tools_test_without_teacher_ckpt_on_disk(
        tmp_path: Path, teacher_ckpt: str,
        capsys: pytest.CaptureFixture) -> None:
    teacher = tmp_path / 'teacher.pth'
    teacher.write_bytes(Path(teacher_ckpt).read_bytes())
    cfg = H.fitnets_cfg(str(tmp_path / 'train'), str(teacher))
    cfg.experiment_name = f'no_teacher_{tmp_path.name}'
    Runner.from_cfg(cfg).train()
    checkpoint = tmp_path / 'train' / 'epoch_2.pth'
    teacher.unlink()  # gone, as a URL out of reach would be

    H.run_tools_test(cfg, str(checkpoint), str(tmp_path))
    out = capsys.readouterr().out + H.log_text(str(tmp_path / 'test'))
    assert f'Not loading teacher_ckpt {str(teacher)!r}' in out
    assert 'Epoch(test) [4/4]' in out
