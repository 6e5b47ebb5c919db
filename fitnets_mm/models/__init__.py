"""FitNets models: regressor, hint loss, two-stage distiller, paper nets."""
from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .connectors import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
