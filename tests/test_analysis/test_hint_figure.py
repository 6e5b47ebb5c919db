"""The hint picture: rows, panels, titles and pixel size."""
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from fitnets_mm.analysis import (COLUMNS, HintMaps, plot_hint_figure,
                                 save_hint_figure)


def _maps(n: int, shape=(6, 5, 7)) -> HintMaps:
    gen = torch.Generator().manual_seed(0)
    hint = torch.rand((n, ) + shape, generator=gen)
    regressed = torch.rand((n, ) + shape, generator=gen)
    cosine = torch.nn.functional.cosine_similarity(
        hint.flatten(1), regressed.flatten(1))
    return HintMaps('backbone.layer2', 'backbone.layer3', hint, regressed,
                    cosine)


def _images(n: int, channels: int = 3) -> list:
    return [np.full((10, 10, channels), 40 * i, np.uint8) for i in range(n)]


def test_three_rows_of_four_panels(tmp_path: Path) -> None:
    maps = _maps(3)
    fig = plot_hint_figure(maps, _images(3), ['a', 'b', 'c'],
                           panel_inches=1.0, dpi=50)
    assert len(fig.axes) == 12 and len(COLUMNS) == 4
    assert [ax.get_title() for ax in fig.subfigs[0].axes] == list(COLUMNS)
    assert all(ax.get_title() == '' for ax in fig.subfigs[1].axes)
    titles = [row._suptitle.get_text() for row in fig.subfigs]
    assert titles[2] == (
        f'c: cosine(hint, regressed) = {float(maps.cosine[2]):.3f}')
    assert fig._suptitle.get_text() == (
        'FitNets hint pair: student backbone.layer2 (regressed) vs. teacher '
        'backbone.layer3')
    # The heat maps of a row share the hint's colour scale.
    hint_img, reg_img = (fig.subfigs[0].axes[i].images[0] for i in (1, 2))
    assert hint_img.get_clim() == reg_img.get_clim()
    out = save_hint_figure(fig, str(tmp_path / 'sub' / 'fig.png'))
    with Image.open(out) as png:
        assert png.size == (4 * 1 * 50, 3 * 1 * 50)


def test_grey_images_and_vector_hints() -> None:
    fig = plot_hint_figure(_maps(1, shape=(12, )), _images(1, channels=1),
                           ['x'], panel_inches=1.0, dpi=30)
    assert len(fig.axes) == 4
    assert fig.axes[1].images[0].get_array().shape == (1, 12)


def test_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match='2 images, 1 names and 2 maps'):
        plot_hint_figure(_maps(2), _images(2), ['a'])
    with pytest.raises(ValueError, match='positive'):
        plot_hint_figure(_maps(1), _images(1), ['a'], dpi=0)


def _stage1_maps(noise: float) -> HintMaps:
    """ReLU-like hints over 256 channels, regressed with relative noise."""
    gen = torch.Generator().manual_seed(1)
    hint = 10 * torch.rand((1, 256, 8, 8), generator=gen)
    regressed = hint + noise * hint * torch.randn(hint.shape, generator=gen)
    cosine = torch.nn.functional.cosine_similarity(
        hint.flatten(1), regressed.flatten(1))
    return HintMaps('backbone.layer2', 'backbone.layer2', hint, regressed,
                    cosine)


def _difference_brightness(maps: HintMaps) -> float:
    """Mean of the difference panel on its colour scale, 0 (dark) .. 1."""
    fig = plot_hint_figure(maps, _images(1), ['x'], panel_inches=1.0, dpi=30)
    image = fig.axes[3].images[0]
    vmin, vmax = image.get_clim()
    values = np.clip((np.asarray(image.get_array()) - vmin) / (vmax - vmin),
                     0, 1)
    return float(values.mean())


def test_good_stage1_shows_a_small_difference() -> None:
    good = _difference_brightness(_stage1_maps(0.05))  # 5 % off the hint
    poor = _difference_brightness(_stage1_maps(1.0))  # as large as the hint
    assert good < 0.05  # dark, not saturated
    assert poor > 0.5 and poor > 5 * good
    fig = plot_hint_figure(_stage1_maps(0.05), _images(1), ['x'])
    assert '% of |hint|' in fig.axes[3].get_xlabel()
