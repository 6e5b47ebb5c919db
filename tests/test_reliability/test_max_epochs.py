"""``train_cfg.max_epochs`` next to ``hint_epochs`` / ``kd_epochs``
(issue 21, D6): a different length is one error saying that the length is
``hint_epochs + kd_epochs``; the same length is accepted.

On a68fb28 it was a raw ``TypeError: __init__() got an unexpected keyword
argument 'max_epochs'``.

Protection: :class:`fitnets_mm.engine.runner.FitNetsTrainLoop`.
"""
from pathlib import Path

import pytest
from mmengine.runner import Runner

from utils import reliability as H


def _runner(tmp_path: Path, teacher_ckpt: str, max_epochs: int) -> Runner:
    cfg = H.fitnets_cfg(str(tmp_path / 'work'), teacher_ckpt, hint_epochs=2,
                        kd_epochs=3, **{'train_cfg.max_epochs': max_epochs})
    cfg.experiment_name = f'max_epochs_{max_epochs}'
    return Runner.from_cfg(cfg)


def test_other_max_epochs_says_the_length(tmp_path: Path,
                                          teacher_ckpt: str) -> None:
    runner = _runner(tmp_path, teacher_ckpt, 10)
    with pytest.raises(ValueError) as err:
        runner.train_loop
    message = str(err.value)
    for part in ('train_cfg.max_epochs=10',
                 'hint_epochs + kd_epochs = 2 + 3 = 5', 'remove max_epochs'):
        assert part in message, f'{part!r} not in {message!r}'
    assert len(message.splitlines()) == 1


def test_matching_max_epochs_is_accepted(tmp_path: Path,
                                         teacher_ckpt: str) -> None:
    loop = _runner(tmp_path, teacher_ckpt, 5).train_loop
    assert (loop.max_epochs, loop.hint_epochs, loop.kd_epochs) == (5, 2, 3)
