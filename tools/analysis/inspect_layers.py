"""Print the module paths and output shapes of a distiller's two networks.

Usage::

    python tools/analysis/inspect_layers.py CONFIG
        [--pair STUDENT_PATH TEACHER_PATH] [--input-shape C H W]
        [--depth N] [--cfg-options K=V ...]

Builds the config's algorithm (its ``teacher_ckpt`` is not loaded), runs one
probe forward per network and prints, for the student and the teacher, each
module path with its output shape, marking with ``*`` the modules near the
middle of the network (where FitNets takes its hint and guided layers). For
the config's hints, or for ``--pair``, it prints the regressor that would be
built and its parameter count. Example::

    python tools/analysis/inspect_layers.py configs/fitnet_cifar10.py \\
        --pair backbone.layer3 backbone.layer3 --depth 3
"""
import argparse

import fitnets_mm_cli
from mmengine.config import Config, DictAction


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Print module paths and output shapes of the student '
        'and teacher of a distillation config, the middle candidates, and '
        'the regressor of a hint pair')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--pair',
        nargs=2,
        metavar=('STUDENT_PATH', 'TEACHER_PATH'),
        help='show this (guided, hint) pair instead of the config\'s hints, '
        'e.g. --pair backbone.layer2 backbone.layer2; its regressor is a '
        'HintRegressor with default options unless the pair is a config '
        'hint')
    parser.add_argument(
        '--input-shape',
        type=int,
        nargs='+',
        metavar='N',
        help='shape of one input, e.g. 3 32 32; defaults to the model\'s '
        '`input_shape` (needed for distillers without one, such as '
        'MMRazor\'s SingleTeacherDistill)')
    parser.add_argument(
        '--depth',
        type=int,
        default=2,
        help='list modules nested at most this deep among the modules the '
        'forward calls (2: backbone.layer2; 3: backbone.layer2.0; the '
        'blocks of an nn.ModuleList, as in backbone.layers.5, count as 2); '
        '0 lists all. Defaults to 2')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs merged '
        'into it; a list is key="[a,b]" or key=a,b, no white space allowed')
    fitnets_mm_cli.add_debug_argument(parser)
    args = parser.parse_args()
    if args.depth < 0:
        parser.error(f'--depth must be >= 0, but got {args.depth}')
    return args


def main() -> None:
    """Build the algorithm, probe both networks and print the report."""
    args = parse_args()
    fitnets_mm_cli.check_config_path(args.config)
    from fitnets_mm.analysis import build_algorithm, inspect_algorithm
    cfg = Config.fromfile(args.config)
    algorithm = build_algorithm(
        cfg, args.cfg_options, input_shape=args.input_shape)
    report = inspect_algorithm(
        algorithm, pair=args.pair, input_shape=args.input_shape)
    print(report.format(max_depth=args.depth or None))


if __name__ == '__main__':
    fitnets_mm_cli.run(main)
