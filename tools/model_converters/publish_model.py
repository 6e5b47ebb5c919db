"""Publish a checkpoint for the model zoo: weights and class names only.

Usage::

    python tools/model_converters/publish_model.py CHECKPOINT OUT_STEM

writes ``OUT_STEM_YYYYMMDD-HASH.pth`` (HASH: the first 8 hex digits of its
SHA-256, as MMPretrain's tool of the same name), without the optimizer,
message hub and scheduler states. A distillation checkpoint (FitNets, KD,
FSP) is published as its student, loadable with the student's own config.
The input is read weights-only: nothing in the file is executed.
"""
import argparse

import fitnets_mm_cli


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Publish a checkpoint: weights and class names only, '
        'named NAME_DATE-HASH.pth')
    parser.add_argument('checkpoint', help='a checkpoint of tools/train.py')
    parser.add_argument('out_stem',
                        help='the output path without _DATE-HASH.pth')
    parser.add_argument('--date', help='YYYYMMDD (default: today)')
    fitnets_mm_cli.add_debug_argument(parser)
    return parser.parse_args()


def main() -> None:
    """Publish the checkpoint and print where it went."""
    args = parse_args()
    fitnets_mm_cli.check_input_path(args.checkpoint, 'checkpoint')
    from fitnets_mm.export import publish_checkpoint
    print(publish_checkpoint(args.checkpoint, args.out_stem, args.date))


if __name__ == '__main__':
    fitnets_mm_cli.run(main)
