"""fitnets_mm: FitNets (Romero et al., ICLR 2015) for the OpenMMLab stack.

Importing the package applies the changes to third-party code in
:mod:`fitnets_mm.compat` (so that MMRazor 1.0.0 imports on PyTorch 2.x),
registers the project's own checkpoint loaders and atomic file backend in
mmengine (:mod:`fitnets_mm.fileio`) and registers the FitNets components:
models in MMRazor's ``MODELS`` registry, the paper's backbones in
MMPretrain's, loops and hooks in MMRazor's. Configs load it with
``custom_imports = dict(imports=['fitnets_mm'])``.
"""
from .compat import apply_all as _apply_compat
from .version import __version__, version_info

_apply_compat()

from .fileio import register_file_features  # noqa: E402

register_file_features()

from . import datasets, engine, models  # noqa: E402,F401  (register)

__all__ = ['__version__', 'version_info']
