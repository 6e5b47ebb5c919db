"""Write the student of a FitNets checkpoint as a plain MMPretrain checkpoint.

Usage::

    python tools/model_converters/fitnets_to_student.py CHECKPOINT OUT
        [--keep-meta]

The output holds the student's weights with the ``architecture.`` prefix
removed and nothing of the teacher, the regressors or the distiller, nor the
optimizer, message hub or scheduler states; ``meta['dataset_meta']`` (the
class names) is kept. Load it with the student's own MMPretrain config, e.g.
``configs/fitnets/students/resnet50-thin_cifar10.py``::

    python tools/test.py configs/fitnets/students/resnet50-thin_cifar10.py OUT

or ``mmpretrain.apis.get_model(CONFIG, pretrained=OUT)`` /
``ImageClassificationInferencer(CONFIG, pretrained=OUT)``. The input is read
weights-only: nothing in the file is executed.
"""
import argparse

import fitnets_mm_cli


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Convert a FitNets (MMRazor distillation) checkpoint to '
        'a student-only MMPretrain checkpoint')
    parser.add_argument('checkpoint', help='the FitNets checkpoint')
    parser.add_argument('out', help='the student checkpoint to write')
    parser.add_argument(
        '--keep-meta',
        action='store_true',
        help='keep the whole meta of the input (epoch, iter, seed, the '
        'training config, ...); by default only meta["dataset_meta"] is '
        'kept')
    fitnets_mm_cli.add_debug_argument(parser)
    return parser.parse_args()


def main() -> None:
    """Export the student and say how many weights were written."""
    args = parse_args()
    fitnets_mm_cli.check_input_path(args.checkpoint, 'checkpoint')
    from fitnets_mm.export import export_student
    count = export_student(args.checkpoint, args.out, args.keep_meta)
    print(f'Wrote the student of {args.checkpoint} ({count} state-dict '
          f'keys) to {args.out}')


if __name__ == '__main__':
    fitnets_mm_cli.run(main)
