"""``tools/analysis/visualize_hints.py``: the hint picture of a checkpoint."""
from pathlib import Path
from typing import Callable, List, Tuple

import pytest
import torch
from PIL import Image

from utils.tool_checkpoints import run_tool, tiny_checkpoint, write_images
from fitnets_mm.analysis import (COLUMNS, compute_hint_maps, load_images,
                                 plot_hint_figure, preprocess_images,
                                 save_hint_figure)

TOOL = 'tools/analysis/visualize_hints.py'


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory: pytest.TempPathFactory
               ) -> Tuple[Path, Path, torch.nn.Module, List[Path]]:
    """Config, checkpoint, algorithm (with its weights) and two images."""
    folder = tmp_path_factory.mktemp('visualize_hints')
    config, ckpt, algorithm = tiny_checkpoint(folder)
    return config, ckpt, algorithm, write_images(folder / 'images', 2)


def _cosines(algorithm: torch.nn.Module, images: List[Path]) -> List[str]:
    arrays = load_images([str(p) for p in images], algorithm.input_shape)
    maps = compute_hint_maps(algorithm, preprocess_images(algorithm, arrays))
    return [f'{float(c):.3f}' for c in maps.cosine]


def test_help(capsys: pytest.CaptureFixture) -> None:
    code, out = run_tool(TOOL, ['--help'], capsys)
    assert code == 0
    for option in ('--out', '--pair-index', '--cfg-options', '--dpi'):
        assert option in out


def test_writes_the_png(checkpoint: Tuple[Path, Path, torch.nn.Module,
                                          List[Path]], tmp_path: Path,
                        run_cli: Callable) -> None:
    config, ckpt, algorithm, images = checkpoint
    out = tmp_path / 'figs' / 'hints.png'
    proc = run_cli(['python', TOOL, config, ckpt, *images, '--out', out,
                    '--panel-size', '2', '--dpi', '40'])
    with Image.open(out) as png:
        assert png.format == 'PNG'
        # 4 panels of 2 inches across, 2 rows of 2 inches, at 40 dpi.
        assert png.size == (4 * 2 * 40, 2 * 2 * 40)
    assert 'backbone.layer2 -> backbone.layer2' in proc.stdout
    # The tool used the checkpoint's weights: its cosines are the ones of
    # the algorithm that was saved.
    assert ', '.join(_cosines(algorithm, images)) in proc.stdout


def test_figure_has_a_row_of_four_panels_per_image(
        checkpoint: Tuple[Path, Path, torch.nn.Module, List[Path]],
        tmp_path: Path) -> None:
    _, _, algorithm, images = checkpoint
    arrays = load_images([str(p) for p in images], algorithm.input_shape)
    maps = compute_hint_maps(algorithm, preprocess_images(algorithm, arrays))
    assert maps.hint.shape == maps.regressed.shape == (2, 16, 16, 16)
    fig = plot_hint_figure(maps, arrays, ['a.png', 'b.png'],
                           panel_inches=1.5, dpi=60)
    assert len(fig.axes) == 2 * len(COLUMNS) == 8
    rows = fig.subfigs
    assert len(rows) == 2 and all(len(row.axes) == 4 for row in rows)
    for row, name, cos in zip(rows, ('a.png', 'b.png'), maps.cosine):
        assert row._suptitle.get_text() == (
            f'{name}: cosine(hint, regressed) = {float(cos):.3f}')
    assert 'backbone.layer2' in fig._suptitle.get_text()
    out = save_hint_figure(fig, str(tmp_path / 'lib.png'))
    with Image.open(out) as png:
        assert png.size == (round(4 * 1.5 * 60), round(2 * 1.5 * 60))


def test_bad_pair_index(checkpoint: Tuple[Path, Path, torch.nn.Module,
                                          List[Path]]) -> None:
    _, _, algorithm, images = checkpoint
    arrays = load_images([str(p) for p in images], algorithm.input_shape)
    with pytest.raises(ValueError, match=r'`pair_index` must be in \[0, 0\]'):
        compute_hint_maps(algorithm, preprocess_images(algorithm, arrays), 1)
