"""Analysis helpers behind ``tools/analysis``: layer reports, hint maps and
pictures, learning curves."""
from .builder import build_algorithm
from .hint_figure import COLUMNS, plot_hint_figure, save_hint_figure
from .hint_maps import (HintMaps, channel_mean, compute_hint_maps,
                        load_images, preprocess_images, value_range,
                        wants_bgr)
from .learning_curves import (StageCurves, load_scalars,
                              plot_learning_curves, split_stages)
from .hint_pairs import PairInfo, config_pairs
from .layer_probe import DEFAULT_MIDDLE_BAND, LayerInfo, probe_layers
from .layer_report import LayerReport, format_layer_table, inspect_algorithm
from .regressor_check import describe_regressor

__all__ = [
    'COLUMNS', 'DEFAULT_MIDDLE_BAND', 'HintMaps', 'LayerInfo', 'LayerReport',
    'PairInfo', 'StageCurves', 'build_algorithm', 'channel_mean', 'compute_hint_maps',
    'config_pairs',
    'describe_regressor', 'format_layer_table', 'inspect_algorithm',
    'load_images', 'load_scalars', 'plot_hint_figure',
    'plot_learning_curves', 'preprocess_images', 'probe_layers',
    'save_hint_figure', 'split_stages', 'value_range', 'wants_bgr'
]
