"""Plot a FitNets run's learning curves, stage by stage, from its scalars.

Usage::

    python tools/analysis/analyze_logs.py SCALARS_JSON [--out PNG]
        [--title TITLE] [--linear-hint]

``SCALARS_JSON`` is mmengine's ``<work_dir>/<timestamp>/vis_data/
scalars.json``. The PNG has one panel per stage (stage 1's L_HT on a log
scale; stage 2's ``student.loss``, ``distill.*`` and total ``loss``) and
one for the validation metrics; the switch is marked on each, and stage 1's
validation (an untrained head) is shaded. A run without hint stage (plain
KD, MMRazor's configs) gets one training panel. A summary is printed.
Example::

    python tools/analysis/analyze_logs.py \\
        work_dirs/fitnet_cifar10/*/vis_data/scalars.json --out curves.png
"""
import argparse

from fitnets_mm.analysis.learning_curves import (load_scalars,
                                                 plot_learning_curves,
                                                 split_stages)


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Stage-aware learning curves of a FitNets run')
    parser.add_argument('scalars', help="mmengine's vis_data/scalars.json")
    parser.add_argument('--out', default='curves.png', help='PNG to write')
    parser.add_argument('--title', help='figure title')
    parser.add_argument(
        '--linear-hint',
        action='store_true',
        help='plot the stage-1 losses on a linear scale (default: log)')
    return parser.parse_args()


def main() -> None:
    """Plot and print one line per stage."""
    args = parse_args()
    curves = split_stages(load_scalars(args.scalars))
    for stage in ('hint', 'kd'):
        records = getattr(curves, stage)
        if records:
            last = records[-1]
            losses = ', '.join(f'{k} {last[k]:.4g}'
                               for k in curves.loss_keys(stage) if k in last)
            print(f'{stage}: {len(records)} records, iterations '
                  f'{records[0]["iter"]}-{last["iter"]}; last: {losses}')
    if curves.switch_iter is not None:
        print(f'switch to stage 2 at iteration {curves.switch_iter} '
              f'(epoch {curves.switch_epoch})')
    for key in curves.val_keys():
        values = [(r['step'], r[key]) for r in curves.val if key in r]
        best = max(values, key=lambda v: v[1])
        print(f'val {key}: last {values[-1][1]:.4g} (epoch '
              f'{values[-1][0]}), best {best[1]:.4g} (epoch {best[0]})')
    out = plot_learning_curves(curves, args.out, args.title,
                               log_hint=not args.linear_hint)
    print(f'Wrote {out}')


if __name__ == '__main__':
    main()
