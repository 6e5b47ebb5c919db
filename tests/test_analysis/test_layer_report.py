"""Layer reports: probe shapes (layer_probe), hint pairs (hint_pairs), the
regressor check (regressor_check) and the report (layer_report).
"""
from types import SimpleNamespace
from typing import Tuple

import pytest
import torch
from torch import nn

from fitnets_mm.analysis import (LayerReport, describe_regressor,
                                 format_layer_table, inspect_algorithm,
                                 probe_layers)
from fitnets_mm.models.connectors import HintRegressor


class ToyNet(nn.Module):
    """Four weight layers (three convs and a linear) and a shared ReLU.

    The outputs of ``stem``, ``mid``, ``top`` and ``fc`` are ready after
    1/4, 2/4, 3/4 and 4/4 of the weight layers.
    """

    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.mid = nn.Sequential(
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.BatchNorm2d(2 * width))
        self.top = nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1)
        self.act = nn.ReLU()  # called three times
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4 * width, 10)
        self.pair = PairOut()  # a tuple output
        self.unused = nn.Linear(2, 2)  # never called

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.stem(x))
        x = self.act(self.mid(x))
        x, _ = self.pair(self.act(self.top(x)))
        return self.fc(self.pool(x).flatten(1))


class PairOut(nn.Module):

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return x, x


class ToyDistiller(nn.Module):
    """Enough of a distiller for :func:`inspect_algorithm`."""

    def __init__(self) -> None:
        super().__init__()
        self.student = ToyNet(4)
        self.teacher = ToyNet(8)
        self.input_shape = (3, 16, 16)
        self.hint_pairs = [dict(student='mid', teacher='mid')]
        self.regressors = nn.ModuleList(
            [HintRegressor(8, 16, in_size=8, out_size=8)])


def _by_path(layers):
    return {info.path: info for info in layers}


def test_probe_records_shapes_calls_and_position() -> None:
    net = ToyNet().train()
    layers = _by_path(probe_layers(net, (3, 16, 16)))
    assert list(layers) == ['stem', 'mid', 'mid.0', 'mid.1', 'top', 'act',
                            'pool', 'fc', 'pair']  # module order
    assert 'unused' not in layers
    assert layers['stem'].shape == (1, 4, 16, 16)
    assert layers['mid'].shape == (1, 8, 8, 8)
    assert layers['fc'].shape == (1, 10)
    assert layers['act'].calls == 3 and layers['act'].shape == (1, 4, 16, 16)
    assert [layers[p].position for p in ('stem', 'mid', 'top', 'fc')] == [
        0.25, 0.5, 0.75, 1.0]
    assert layers['pair'].shape is None
    assert layers['pair'].shape_text == '[(1, 16, 4, 4), (1, 16, 4, 4)]'
    assert layers['mid'].num_params == sum(
        p.numel() for p in net.mid.parameters())
    # The mode of every submodule is back as it was.
    assert all(m.training for m in net.modules())


def test_middle_band() -> None:
    layers = _by_path(probe_layers(ToyNet(), (3, 16, 16)))
    assert {p for p, i in layers.items() if i.middle} == {'mid', 'mid.0',
                                                          'mid.1'}
    wide = _by_path(probe_layers(ToyNet(), (3, 16, 16), (0.2, 0.8)))
    assert wide['stem'].middle and wide['top'].middle
    assert not wide['pair'].middle  # tuple outputs are never candidates
    with pytest.raises(ValueError, match='middle_band'):
        probe_layers(ToyNet(), (3, 16, 16), (0.7, 0.3))
    with pytest.raises(ValueError, match='input_shape'):
        probe_layers(ToyNet(), (3, 0, 16))


def test_probe_names_a_bad_input_shape() -> None:
    with pytest.raises(RuntimeError, match=r'input shape \(1, 1, 16, 16\)'):
        probe_layers(ToyNet(), (1, 16, 16))


def test_table_depth_and_markers() -> None:
    layers = probe_layers(ToyNet(), (3, 16, 16))
    table = format_layer_table('Toy', layers, max_depth=1)
    lines = table.splitlines()
    assert lines[0] == 'Toy'
    assert 'module path' in lines[1] and 'output shape' in lines[1]
    assert 'mid.0' not in table
    mid = next(line for line in lines if ' mid ' in line)
    assert mid.startswith('*') and '(1, 8, 8, 8)' in mid and '50%' in mid
    assert 'ReLU x3' in table
    assert 'mid.0' in format_layer_table('Toy', layers, max_depth=None)
    with pytest.raises(ValueError, match='max_depth'):
        format_layer_table('Toy', layers, max_depth=0)


def test_config_pair_reuses_the_built_regressor() -> None:
    algorithm = ToyDistiller()
    report = inspect_algorithm(algorithm)
    assert isinstance(report, LayerReport)
    assert report.input_shape == (1, 3, 16, 16)
    (pair, ) = report.pairs
    assert pair.from_config and pair.regressor is algorithm.regressors[0]
    assert (pair.guided_shape, pair.hint_shape) == ((1, 8, 8, 8),
                                                    (1, 16, 8, 8))
    assert pair.num_params == 8 * 16 * 9 + 16
    assert pair.origin == 'config hint' and pair.check == ''
    text = report.format(max_depth=1)
    assert 'check: output (1, 16, 8, 8) fits the hint' in text
    assert f'regressor parameters: {pair.num_params} (' in text
    assert 'Legend: * middle candidate' in text
    # 'mid' is the one middle candidate of each table at depth 1.
    assert sum(line.startswith('*') for line in text.splitlines()) == 2


def test_chosen_pair_builds_a_default_regressor() -> None:
    report = inspect_algorithm(ToyDistiller(), pair=('stem', 'top'))
    (pair, ) = report.pairs
    assert not pair.from_config
    # 16 x 16 guided, 4 x 4 hint: a stride-4 conv.
    assert isinstance(pair.regressor, HintRegressor)
    assert pair.regressor.layer.stride == (4, 4)
    assert pair.num_params == 4 * 32 * 16 + 32
    assert 'conv kernel 4x4, stride 4x4' in describe_regressor(
        pair.regressor)


def test_bad_pairs_are_explained() -> None:
    with pytest.raises(KeyError, match=r"'mdi' is not a module.*'mid'"):
        inspect_algorithm(ToyDistiller(), pair=('mdi', 'mid'))
    with pytest.raises(ValueError, match="'pair' outputs .* one tensor"):
        inspect_algorithm(ToyDistiller(), pair=('mid', 'pair'))
    with pytest.raises(ValueError, match="'unused' is not called"):
        inspect_algorithm(ToyDistiller(), pair=('unused', 'mid'))
    algorithm = ToyDistiller()
    del algorithm.input_shape
    with pytest.raises(ValueError, match='no `input_shape`'):
        inspect_algorithm(algorithm)
    assert inspect_algorithm(algorithm, input_shape=(3, 8, 8)).input_shape \
        == (1, 3, 8, 8)
    with pytest.raises(TypeError, match='`student`'):
        inspect_algorithm(ToyNet())


def test_describe_regressor_kinds() -> None:
    up = HintRegressor(4, 8, in_size=4, out_size=8, act_cfg=None)
    assert describe_regressor(up).endswith(
        'transposed conv kernel 2x2, stride 2x2, padding 0x0')
    assert 'ReLU' not in describe_regressor(up)
    vector = HintRegressor(4, 8)
    assert describe_regressor(vector) == (
        'Linear(in_features=4, out_features=8, bias=True) + ReLU: linear '
        '(vector hint)')
    assert describe_regressor(nn.Conv2d(1, 1, 1)).startswith('Conv2d(1, 1')


def _recorders(**sources: str) -> SimpleNamespace:
    return SimpleNamespace(
        get_recorder=lambda name: SimpleNamespace(source=sources[name]))


def test_connector_pairs_of_a_configurable_distiller() -> None:
    """A hint written as an MMRazor connector + loss is found and checked."""
    algorithm = ToyDistiller()
    algorithm.hint_pairs = []
    # A connector given channels but no sizes is a linear layer: on the
    # (1, 8, 8, 8) map it acts on the last (width) axis and silently gives
    # a wrong shape. The report says so.
    algorithm.distiller = SimpleNamespace(
        student_recorders=_recorders(g='mid', logits='fc'),
        teacher_recorders=_recorders(h='mid', logits='fc'),
        connectors={'reg': HintRegressor(8, 16)},
        loss_forward_mappings=dict(
            loss_hint=dict(
                s_feature=dict(from_student=True, recorder='g',
                               connector='reg'),
                t_feature=dict(from_student=False, recorder='h')),
            loss_kd=dict(
                preds_S=dict(from_student=True, recorder='logits'),
                preds_T=dict(from_student=False, recorder='logits'))))
    (pair, ) = inspect_algorithm(algorithm).pairs
    assert (pair.student, pair.teacher, pair.origin) == ('mid', 'mid',
                                                         'connector reg')
    assert pair.regressor is algorithm.distiller.connectors['reg']
    # a vector regressor (no in_size) refuses the (1, 8, 8, 8) map
    assert pair.check.startswith(
        'the regressor fails on the guided output (1, 8, 8, 8)')
    assert 'built for vectors' in pair.check
    assert 'check: ERROR: the regressor fails' in inspect_algorithm(
        algorithm).format()


def test_check_reports_a_failing_regressor() -> None:
    algorithm = ToyDistiller()
    algorithm.regressors[0] = HintRegressor(4, 16, in_size=8, out_size=8)
    (pair, ) = inspect_algorithm(algorithm).pairs
    assert pair.check.startswith('the regressor fails on the guided output '
                                 '(1, 8, 8, 8): RuntimeError')


class ListNet(nn.Module):
    """Blocks in an ``nn.ModuleList``, which itself never runs."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([
            nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()),
            nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()),
        ])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


def test_depth_counts_called_ancestors_only() -> None:
    toy = _by_path(probe_layers(ToyNet(), (3, 16, 16)))
    assert (toy['mid'].depth, toy['mid.0'].depth) == (1, 2)
    listed = _by_path(probe_layers(ListNet(), (3, 8, 8)))
    assert 'layers' not in listed  # the ModuleList is not called
    assert (listed['layers.1'].depth, listed['layers.1.0'].depth) == (1, 2)
    table = format_layer_table('List', list(listed.values()), max_depth=1)
    assert 'layers.1 ' in table and 'layers.1.0' not in table
