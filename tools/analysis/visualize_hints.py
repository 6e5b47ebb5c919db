"""Draw a FitNets checkpoint's teacher hints next to the student's regressed
guided outputs, for a few images.

Usage::

    python tools/analysis/visualize_hints.py CONFIG CHECKPOINT IMG [IMG ...]
        --out PNG [--pair-index I] [--input-shape C H W]
        [--panel-size INCHES] [--dpi DPI] [--cfg-options K=V ...]

One row per image: the input (resized to the model's ``input_shape``), the
teacher's hint map, the student's regressed map (the regressor applied to
the guided layer's output; both as channel means on one colour scale) and
``|hint - regressed|``. Each row's title gives the cosine similarity of the
flattened hint and regressed outputs: after a good stage 1 the two middle
panels look alike, the difference is dark and the cosine is near 1. Example::

    python tools/analysis/visualize_hints.py configs/fitnet_cifar10.py \\
        work_dirs/fitnet_cifar10/hint_stage_last.pth demo/*.png --out hints.png

``hint_stage_last.pth`` is the end-of-stage-1 checkpoint that
``HintStageHook`` (in the default schedule) always keeps.
"""
import argparse
import os.path as osp

import fitnets_mm_cli
from mmengine.config import DictAction


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Plot teacher hint maps against the student\'s '
        'regressed maps of a FitNets checkpoint')
    parser.add_argument('config', help='the FitNets config file')
    parser.add_argument('checkpoint', help='a checkpoint of the algorithm')
    parser.add_argument('images', nargs='+', metavar='IMG', help='images')
    parser.add_argument('--out', required=True, help='the PNG to write')
    parser.add_argument(
        '--pair-index',
        type=int,
        default=0,
        help='which hint pair to draw: the config\'s `hints` in their '
        'order, then losses on a student connector and a teacher module '
        '(as tools/analysis/inspect_layers.py lists them). Defaults to 0')
    parser.add_argument(
        '--input-shape',
        type=int,
        nargs=3,
        metavar=('C', 'H', 'W'),
        help='size the images are resized to; defaults to the model\'s '
        '`input_shape` (needed for distillers without one, such as '
        'MMRazor\'s SingleTeacherDistill)')
    parser.add_argument(
        '--panel-size',
        type=float,
        default=2.5,
        help='width and height of one panel in inches. Defaults to 2.5')
    parser.add_argument(
        '--dpi', type=int, default=100, help='dots per inch. Defaults to 100')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs merged '
        'into it; a list is key="[a,b]" or key=a,b, no white space allowed')
    fitnets_mm_cli.add_debug_argument(parser)
    return parser.parse_args()


def main() -> None:
    """Load the checkpoint, compute the maps and write the figure."""
    args = parse_args()
    fitnets_mm_cli.check_config_path(args.config)
    fitnets_mm_cli.check_input_path(args.checkpoint, 'checkpoint')
    for image in args.images:
        fitnets_mm_cli.check_input_path(image, 'image')
    import matplotlib
    matplotlib.use('Agg')  # write files; no display needed
    from fitnets_mm.analysis import (build_algorithm, compute_hint_maps,
                                     load_images, plot_hint_figure,
                                     preprocess_images, save_hint_figure,
                                     wants_bgr)
    algorithm = build_algorithm(
        args.config, args.cfg_options, checkpoint=args.checkpoint)
    shape = args.input_shape or getattr(algorithm, 'input_shape', None)
    if shape is None:
        raise ValueError(f'{type(algorithm).__name__} has no `input_shape`; '
                         'give the image size with --input-shape C H W.')
    images = load_images(args.images, shape, bgr=wants_bgr(algorithm))
    maps = compute_hint_maps(
        algorithm, preprocess_images(algorithm, images), args.pair_index)
    shown = [img[..., ::-1] if wants_bgr(algorithm) else img
             for img in images]
    fig = plot_hint_figure(
        maps,
        shown, [osp.basename(p) for p in args.images],
        panel_inches=args.panel_size,
        dpi=args.dpi)
    save_hint_figure(fig, args.out)
    cosines = ', '.join(f'{float(c):.3f}' for c in maps.cosine)
    print(f'Wrote {args.out}: pair {maps.student} -> {maps.teacher}, '
          f'cosine per image: {cosines}')


if __name__ == '__main__':
    fitnets_mm_cli.run(main)
