"""Model size and cost as the FitNets paper counts them (Table 5).

The paper reports parameters and multiplications: the multiply-accumulates
of its conv and fully-connected layers for one image. Maxout layers count
as the convs or linear layers they contain (``C * k`` outputs); max-pooling,
the max over pieces and biases cost nothing.

The counting itself is mmengine's (:class:`mmengine.analysis.FlopAnalyzer`,
the fvcore counter also behind ``get_model_complexity_info``), which counts
one multiply-accumulate as one "flop": a conv costs ``outputs *
in_channels / groups * kernel``, a transposed conv ``inputs * out_channels /
groups * kernel``, a linear layer ``outputs * in_features``. The paper's
rule is applied by keeping only those operators (:data:`PAPER_OPERATORS`):
the normalisation, pooling and upsampling mmengine also counts are left
out, as the paper leaves them. On the paper's networks this gives its
figures (e.g. 725.09M for the CIFAR-10 maxout teacher, 30.15M and 381.75M
for FitNets 1 and 4).
"""
from typing import List, Optional, Sequence

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from torch import nn

__all__ = ['PAPER_OPERATORS', 'count_params', 'count_mult']

#: mmengine / fvcore operator names of the layers the paper counts.
PAPER_OPERATORS = ('conv', 'linear', 'addmm', 'matmul', 'bmm', 'einsum')


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Count the parameters of ``module``.

    Args:
        module (nn.Module): The model.
        trainable_only (bool): Count only parameters with
            ``requires_grad``. Defaults to False.

    Returns:
        int: The number of parameter elements.
    """
    if trainable_only:
        return sum(p.numel() for p in module.parameters() if p.requires_grad)
    return int(parameter_count(module)[''])


def count_mult(module: nn.Module,
               input_shape: Sequence[int],
               until: Optional[str] = None) -> int:
    """Count the multiplications of one forward pass on one sample.

    ``module`` is traced once by mmengine's :class:`FlopAnalyzer` in eval
    mode under ``torch.no_grad`` on a zero input (the train/eval mode of
    every submodule is restored after), and the multiply-accumulates of the
    :data:`PAPER_OPERATORS` are summed.

    Note:
        The input is passed as ``module(x)``, so an mmpretrain
        ``ImageClassifier`` runs in ``mode='tensor'`` (backbone, neck and
        head) and its data preprocessor is skipped.

    Args:
        module (nn.Module): The model.
        input_shape (Sequence[int]): Shape of one sample without the batch
            dim, e.g. ``(3, 32, 32)``.
        until (str, optional): Count only a forward that stops after this
            submodule (a module path such as ``'backbone.layer2'``), as
            FitNets' stage 1 does: the operators inside the leaf modules
            that run before the stop. The trace itself runs the whole
            forward (a traced forward cannot stop early). Defaults to None
            (the whole forward).

    Returns:
        int: The number of multiplications.
    """
    shape = tuple(input_shape)
    if not shape or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1
            for s in shape):
        raise ValueError('`input_shape` must be the positive sizes of one '
                         'sample without the batch dim, e.g. (3, 32, 32), '
                         f'but got {input_shape!r}.')
    param = next(module.parameters(), None)
    x = torch.zeros(
        1,
        *shape,
        device=None if param is None else param.device,
        dtype=None if param is None else param.dtype)
    modes = {sub: sub.training for sub in module.modules()}
    module.eval()
    try:
        with torch.no_grad():
            analyzer = FlopAnalyzer(module, (x, ))
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            if until is None:
                by_operator = analyzer.by_operator()
            else:
                called = _leaves_called_until(module, x, until)
                per_module = analyzer.by_module_and_operator()
                by_operator = {}
                for name in called:
                    for op, n in per_module.get(name, {}).items():
                        by_operator[op] = by_operator.get(op, 0) + n
    finally:
        for sub, training in modes.items():
            sub.training = training
    return int(sum(by_operator.get(op, 0) for op in PAPER_OPERATORS))


def _leaves_called_until(module: nn.Module, x: torch.Tensor,
                         until: str) -> List[str]:
    """Names of the leaf modules that a forward stopped after ``until``
    calls."""
    from .feature_recorder import FeatureRecorder
    called: List[str] = []
    handles = [
        sub.register_forward_hook(
            lambda _m, _i, _o, name=name: called.append(name))
        for name, sub in module.named_modules()
        if not any(True for _ in sub.children())
    ]
    try:
        FeatureRecorder(module, [until], stop=True).run(lambda: module(x))
    finally:
        for handle in handles:
            handle.remove()
    return called
