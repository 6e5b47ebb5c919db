"""Learning curves and training time of runs, stage by stage, from their scalars.

Usage (the sub-commands of MMPretrain's ``analyze_logs.py``)::

    python tools/analysis/analyze_logs.py plot_curve SCALARS_JSON [...]
        [--keys KEY ...] [--legend NAME ...] [--out PNG] [--title TITLE]
        [--linear-hint]
    python tools/analysis/analyze_logs.py cal_train_time SCALARS_JSON [...]

``plot_curve`` may be left out (``analyze_logs.py SCALARS_JSON --out
PNG``). ``SCALARS_JSON`` is mmengine's ``<work_dir>/<timestamp>/vis_data/
scalars.json``. The PNG has one panel per stage (stage 1's L_HT on a log
scale; stage 2's ``student.loss``, ``distill.*`` and total ``loss``) and
one for the validation metrics; the switch (the first iteration of stage 2)
is marked on each, and stage 1's validation (an untrained head) is shaded.
A run without hint stage (plain KD, MMRazor's configs) gets one training
panel. ``--keys`` picks scalars (without their ``stage<N>/`` tag); several
logs are drawn in the same panels, named by ``--legend``. A summary is
printed. ``cal_train_time`` prints the seconds per iteration of each stage
and overall, and the slowest and fastest epochs. Example::

    python tools/analysis/analyze_logs.py plot_curve \\
        work_dirs/fitnet_cifar10/*/vis_data/scalars.json --out curves.png
"""
import argparse
import sys
from typing import List, Optional

import fitnets_mm_cli

COMMANDS = ('plot_curve', 'cal_train_time')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line (``plot_curve`` when no command is named)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and argv[0] not in ('-h',
                                                           '--help'):
        argv.insert(0, 'plot_curve')
    parser = argparse.ArgumentParser(
        description='Stage-aware learning curves and training time of '
        'FitNets (and any mmengine) runs')
    commands = parser.add_subparsers(dest='command', required=True)
    plot = commands.add_parser('plot_curve', help='plot the curves')
    time = commands.add_parser('cal_train_time',
                               help='seconds per iteration, by stage')
    for sub in (plot, time):
        sub.add_argument('scalars', nargs='+',
                         help="mmengine's vis_data/scalars.json, one or more")
        fitnets_mm_cli.add_debug_argument(sub)
    plot.add_argument('--keys', nargs='+',
                      help='the scalars to plot (default: every loss and '
                      'validation metric)')
    plot.add_argument('--legend', nargs='+',
                      help='a name per log (default: run 1, run 2, ...)')
    plot.add_argument('--out', default='curves.png', help='PNG to write')
    plot.add_argument('--title', help='figure title')
    plot.add_argument(
        '--linear-hint',
        action='store_true',
        help='plot the stage-1 losses on a linear scale (default: log)')
    args = parser.parse_args(argv)
    if args.command == 'plot_curve' and args.legend and len(
            args.legend) != len(args.scalars):
        parser.error(f'--legend has {len(args.legend)} names for '
                     f'{len(args.scalars)} logs; give one per log')
    return args


def summarise(name: str, curves: object) -> None:
    """Print one line per stage, the switch and the validation metrics."""
    prefix = f'{name}: ' if name else ''
    for stage in ('hint', 'kd'):
        records = getattr(curves, stage)
        if records:
            last = records[-1]
            losses = ', '.join(f'{k} {last[k]:.4g}'
                               for k in curves.loss_keys(stage) if k in last)
            print(f'{prefix}{stage}: {len(records)} records, iterations '
                  f'{records[0]["iter"]}-{last["iter"]}; last: {losses}')
    if curves.switch_iter is not None:
        print(f'{prefix}switch to stage 2 at iteration {curves.switch_iter} '
              f'(epoch {curves.switch_epoch})')
    for key in curves.val_keys():
        values = [(r['step'], r[key]) for r in curves.val if key in r]
        best = max(values, key=lambda v: v[1])
        print(f'{prefix}val {key}: last {values[-1][1]:.4g} (epoch '
              f'{values[-1][0]}), best {best[1]:.4g} (epoch {best[0]})')


def main() -> None:
    """Plot, or print the training time."""
    args = parse_args()
    for path in args.scalars:
        fitnets_mm_cli.check_input_path(path, 'scalars')
    from fitnets_mm.analysis.learning_curves import (load_scalars,
                                                     plot_learning_curves,
                                                     split_stages, train_time)
    runs = [split_stages(load_scalars(path)) for path in args.scalars]
    several = len(runs) > 1
    if args.command == 'cal_train_time':
        for path, curves in zip(args.scalars, runs):
            print(f'-----Analyze train time of {path}-----')
            report = train_time(curves)
            if not report:
                print('no training record has a time')
            for part, numbers in report.items():
                print(f'{part}: average iter time {numbers["mean"]:.4f} '
                      f's/iter; slowest epoch {numbers["slowest_epoch"]}, '
                      f'fastest epoch {numbers["fastest_epoch"]}, std over '
                      f'epochs {numbers["std"]:.4f}')
        return
    legend = args.legend or ([f'run {i + 1}' for i in range(len(runs))]
                             if several else [''])
    for name, curves in zip(legend, runs):
        summarise(name if several else '', curves)
    out = plot_learning_curves(runs, args.out, args.title,
                               log_hint=not args.linear_hint,
                               keys=args.keys,
                               legend=legend if several else None)
    print(f'Wrote {out}')


if __name__ == '__main__':
    fitnets_mm_cli.run(main)
