"""FLOPs and parameters of a config's model; of the student for distillation.

Usage::

    python tools/analysis/get_flops.py CONFIG [--shape C H W] [--stage1]
        [--cfg-options K=V ...] [--debug]

MMPretrain's ``tools/analysis_tools/get_flops.py`` builds the whole model,
so on a distillation config it builds the teacher and downloads its
``teacher_ckpt``. Here the config's model is built without any weights
(:func:`fitnets_mm.analysis.build_algorithm`), and what is counted is what
is deployed: the student (``model.architecture``), by mmengine's
``get_model_complexity_info`` as MMPretrain counts it. ``--stage1`` adds
FitNets' stage-1 forward, which stops after the deepest hint layer of the
student, and the hint regressors' parameters. A config without a teacher
(a plain MMPretrain classifier) is counted as a whole. The input shape is
``--shape``, else the algorithm's ``input_shape``, else 3 224 224. Example::

    python tools/analysis/get_flops.py configs/fitnet_cifar10.py --stage1
"""
import argparse

import fitnets_mm_cli
from mmengine.config import DictAction


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='FLOPs and parameters of the student of a distillation '
        'config (or of a plain model), without the teacher\'s weights')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--shape', type=int, nargs='+',
                        help='input shape C H W (or H W: 3 channels)')
    parser.add_argument(
        '--stage1',
        action='store_true',
        help="also count FitNets' stage-1 forward (up to the deepest "
        'student hint layer) and the regressors')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs')
    fitnets_mm_cli.add_debug_argument(parser)
    args = parser.parse_args()
    if args.shape is not None and len(args.shape) not in (2, 3):
        parser.error(f'--shape takes C H W or H W, but got {args.shape}')
    return args


def main() -> None:
    """Build the model without weights and print its complexity."""
    args = parse_args()
    fitnets_mm_cli.check_config_path(args.config)
    from mmengine.analysis import get_model_complexity_info

    from fitnets_mm.analysis import build_algorithm
    from fitnets_mm.models.utils.complexity import count_mult, count_params
    model = build_algorithm(args.config, args.cfg_options)
    shape = args.shape or getattr(model, 'input_shape', None) or (3, 224,
                                                                  224)
    shape = tuple(shape) if len(shape) == 3 else (3, *shape)
    student = getattr(model, 'student', model)
    name = 'student (model.architecture)' if student is not model else \
        'model'
    info = get_model_complexity_info(student, input_shape=shape,
                                     show_table=False, show_arch=False)
    line = '=' * 30
    print(f'{line}\nModel: {name} ({type(student).__name__})\n'
          f'Input shape: {shape}\nFlops: {info["flops_str"]}\n'
          f'Params: {info["params_str"]}\n{line}')
    if args.stage1:
        pairs = getattr(model, 'hint_pairs', None)
        if not pairs:
            raise fitnets_mm_cli.UserError(
                f'--stage1 needs a FitNets config with `hints`, but the '
                f'model of {args.config} ({type(model).__name__}) has none')
        counts = {p['student']: count_mult(student, shape, until=p['student'])
                  for p in pairs}
        deepest = max(counts, key=counts.get)
        regressors = getattr(model, 'regressors', None)
        extra = count_params(regressors) if regressors is not None else 0
        print(f'Stage 1 forward (student up to {deepest}): '
              f'{counts[deepest] / 1e6:.3f}M multiply-accumulates of conv '
              f'and linear layers (whole student: '
              f'{count_mult(student, shape) / 1e6:.3f}M); hint regressors: '
              f'{extra} parameters')
    print('Flops are counted by mmengine (one multiply-accumulate is one '
          'flop) on one input of the shape above; the teacher is not '
          'counted and its weights are not loaded.')


if __name__ == '__main__':
    fitnets_mm_cli.run(main)
