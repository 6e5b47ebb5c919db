"""Analysis helpers behind ``tools/analysis``: layer reports, hint maps and
pictures, learning curves.

The submodules are imported on first use of one of their names (PEP 562), so
that ``import fitnets_mm.analysis`` does not import matplotlib or build
anything.
"""
import importlib
from typing import Any, Dict, List

#: Public name -> the submodule that defines it.
_NAMES: Dict[str, str] = {
    'build_algorithm': 'builder',
    'COLUMNS': 'hint_figure',
    'plot_hint_figure': 'hint_figure',
    'save_hint_figure': 'hint_figure',
    'HintMaps': 'hint_maps',
    'channel_mean': 'hint_maps',
    'compute_hint_maps': 'hint_maps',
    'load_images': 'hint_maps',
    'preprocess_images': 'hint_maps',
    'value_range': 'hint_maps',
    'wants_bgr': 'hint_maps',
    'StageCurves': 'learning_curves',
    'iters_per_epoch': 'learning_curves',
    'load_scalars': 'learning_curves',
    'plot_learning_curves': 'learning_curves',
    'split_stages': 'learning_curves',
    'train_time': 'learning_curves',
    'PairInfo': 'hint_pairs',
    'config_pairs': 'hint_pairs',
    'DEFAULT_MIDDLE_BAND': 'layer_probe',
    'LayerInfo': 'layer_probe',
    'probe_layers': 'layer_probe',
    'LayerReport': 'layer_report',
    'format_layer_table': 'layer_report',
    'inspect_algorithm': 'layer_report',
    'describe_regressor': 'regressor_check',
}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(
            f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{_NAMES[name]}', __name__),
                    name)
    globals()[name] = value
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_NAMES))
