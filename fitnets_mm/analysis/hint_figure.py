"""The hint picture: teacher hint vs. student regressed maps, per image.

One row per image, four panels: the input, the teacher's hint (channel
mean), the student's regressed guided output (channel mean) and the
channel mean of ``|hint - regressed|``. The hint and regressed maps of a row
share one colour scale. The difference is scaled from 0 to the largest
channel mean of ``|hint|``: it is measured against the size of the hint
itself, so a good stage 1 (a regressed map within a few per cent of the
hint) shows a dark difference and a poor one a bright one. (The spread of
the channel means, ``hi - lo``, is no scale for it: averaging over channels
flattens the maps but not the absolute differences, which then saturated.)
Each heat map's label gives its value range, the difference's also its mean
relative to the mean ``|hint|``. Each row's title gives the cosine
similarity of the flattened hint and regressed outputs; the figure's title
names the pair.

The figure is a plain :class:`matplotlib.figure.Figure`, not a pyplot one:
it renders with Agg whatever backend pyplot has, and leaves pyplot's state
alone.
"""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from .hint_maps import HintMaps, channel_mean, value_range

__all__ = ['COLUMNS', 'plot_hint_figure', 'save_hint_figure']

#: Panel titles, left to right.
COLUMNS = ('input', 'teacher hint (channel mean)',
           'student regressed (channel mean)',
           '|hint - regressed| (channel mean)')


def _show_image(ax, image: np.ndarray) -> None:
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap='gray', vmin=0, vmax=255)
    else:
        ax.imshow(image)


def plot_hint_figure(maps: HintMaps,
                     images: Sequence[np.ndarray],
                     names: Sequence[str],
                     panel_inches: float = 2.5,
                     dpi: int = 100,
                     cmap: str = 'viridis') -> Figure:
    """Draw the grid: one row per image, :data:`COLUMNS` as panels.

    Note:
        The figure measures ``4 * panel_inches`` by
        ``len(images) * panel_inches`` inches, so a PNG saved at ``dpi`` is
        ``round(4 * panel_inches * dpi)`` by
        ``round(len(images) * panel_inches * dpi)`` pixels.

    Args:
        maps (HintMaps): From :func:`compute_hint_maps`, for ``images``.
        images (Sequence[np.ndarray]): The input images, (H, W, C) uint8 in
            RGB order (or grey-scale).
        names (Sequence[str]): A name per image (e.g. the file name).
        panel_inches (float): Width and height of one panel.
            Defaults to 2.5.
        dpi (int): Dots per inch. Defaults to 100.
        cmap (str): Colour map of the heat maps. Defaults to ``'viridis'``.

    Returns:
        Figure: The figure; ``figure.axes`` holds ``4 * len(images)`` axes.
    """
    n = len(images)
    if n == 0 or len(names) != n or maps.hint.shape[0] != n:
        raise ValueError(
            f'Expected one name and one map per image, but got {n} images, '
            f'{len(names)} names and {maps.hint.shape[0]} maps.')
    if panel_inches <= 0 or dpi <= 0:
        raise ValueError('`panel_inches` and `dpi` must be positive, but got '
                         f'{panel_inches} and {dpi}.')
    hint, regressed = channel_mean(maps.hint), channel_mean(maps.regressed)
    difference = channel_mean(maps.difference)
    fig = Figure(
        figsize=(len(COLUMNS) * panel_inches, n * panel_inches),
        dpi=dpi,
        layout='constrained')
    fig.suptitle(f'FitNets hint pair: student {maps.student} (regressed) vs. '
                 f'teacher {maps.teacher}')
    rows = fig.subfigures(n, 1, squeeze=False)[:, 0]
    for i, row in enumerate(rows):
        row.suptitle(f'{names[i]}: cosine(hint, regressed) = '
                     f'{float(maps.cosine[i]):.3f}', fontsize='medium')
        axes = row.subplots(1, len(COLUMNS))
        lo, hi = value_range(hint[i], regressed[i])
        magnitude = channel_mean(maps.hint[i:i + 1].abs())[0]
        scale = max(float(magnitude.max()), 1e-12)
        _show_image(axes[0], images[i])
        for ax, values, vmin, vmax in ((axes[1], hint[i], lo, hi),
                                       (axes[2], regressed[i], lo, hi),
                                       (axes[3], difference[i], 0, scale)):
            ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_xlabel(f'values {values.min():.3g} .. {values.max():.3g}',
                          fontsize='x-small')
        relative = float(difference[i].mean()) / max(
            float(magnitude.mean()), 1e-12)
        axes[3].set_xlabel(
            f'{difference[i].min():.3g} .. {difference[i].max():.3g}; '
            f'{relative:.1%} of |hint|', fontsize='x-small')
        for ax, title in zip(axes, COLUMNS):
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize='small')
    return fig


def save_hint_figure(fig: Figure, out: str,
                     dpi: Optional[int] = None) -> str:
    """Save ``fig`` as a PNG at its own size (no tight bounding box).

    Args:
        fig (Figure): From :func:`plot_hint_figure`.
        out (str): The PNG file; missing folders are created.
        dpi (int, optional): Overrides the figure's dpi. Defaults to None.

    Returns:
        str: ``out``.
    """
    folder = osp.dirname(osp.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out, dpi=dpi or fig.dpi, format='png')
    return out
