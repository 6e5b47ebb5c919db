"""The worked config of ``docs/en/user_guides/configs.md``, saved in
``configs/mine/`` as a user would."""
import re
import shutil
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import fitnets_mm  # noqa: F401
from mmrazor.registry import MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE = REPO_ROOT / 'docs' / 'en' / 'user_guides' / 'configs.md'
MARKER = re.compile(r'<!-- worked-example: (\S+) -->\n```python\n(.*?)```',
                    re.S)


def documented_worked_example() -> tuple:
    """``(relative path, code)`` of the documented worked example."""
    match = MARKER.search(PAGE.read_text())
    assert match, f'{PAGE} lost its worked-example block'
    return match.group(1), match.group(2)


@pytest.fixture
def saved_example(tmp_path: Path) -> Path:
    """The block saved at its path in a copy of the repository's configs."""
    relative, code = documented_worked_example()
    assert relative.startswith('configs/mine/')
    shutil.copytree(REPO_ROOT / 'configs', tmp_path / 'configs')
    path = tmp_path / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code)
    return path


def test_worked_example_builds_and_trains_a_step(saved_example: Path) -> None:
    cfg = Config.fromfile(str(saved_example))
    assert cfg.train_cfg.hint_epochs == 40 and cfg.train_cfg.kd_epochs == 200
    cfg.model.teacher_ckpt = None  # offline: the zoo file is not fetched
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(cfg.model)
    # The dataset's normalisation is in force, not raw pixels.
    preprocessor = model.data_preprocessor
    assert preprocessor._enable_normalize
    torch.testing.assert_close(preprocessor.mean.flatten(),
                               torch.tensor(cfg.data_preprocessor.mean))
    from mmengine.optim import OptimWrapper
    from mmpretrain.structures import DataSample
    data = dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=[DataSample().set_gt_label(i) for i in range(2)])
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    losses = model.train_step(data, wrapper)
    assert torch.isfinite(sum(v for k, v in losses.items() if 'loss' in k))
