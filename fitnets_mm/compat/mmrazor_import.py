"""Make MMRazor 1.0.0's distillation parts importable on PyTorch 2.x.

MMRazor 1.0.0 (its last release) imports ``mmrazor.structures.quantization``
from ``mmrazor.structures``, and through it from ``mmrazor.models``. That
module builds quantization tables at import time from private PyTorch APIs
(``torch.nn.quantized._reference``, ``torch.ao.quantization`` fuser helpers)
that later PyTorch releases removed, so ``import mmrazor.models`` raises
``ImportError: `torch>=1.13` is not installed properly`` although nothing a
distillation needs lives there.

:func:`exec_with_fallback` runs the real import of that module, from the
import hook of :mod:`fitnets_mm_startup` (installed at interpreter start by
fitnets_mm's ``.pth`` file, and by ``import fitnets_mm``). Only when it
fails *inside* ``mmrazor/structures/quantization`` is the module replaced by
:class:`UnavailableQuantization`, whose public names exist (so the rest of
MMRazor imports) but raise :class:`MMRazorQuantizationUnavailable` naming the
original cause as soon as they are used. Any other import error propagates
unchanged, and nothing is touched where the real import works. The
replacement is announced once in the log; ``FITNETS_MM_COMPAT_OFF=
mmrazor_import`` turns it off (MMRazor then fails to import on torch 2.x).
"""
import importlib
import os
import os.path as osp
import sys
import traceback
import types
from typing import Any, Callable, Optional

__all__ = [
    'MMRazorImportFixOff', 'MMRazorQuantizationUnavailable',
    'UnavailableQuantization', 'exec_with_fallback', 'import_mmrazor_models',
    'patch_mmrazor_quantization'
]

QUANT_MODULE = 'mmrazor.structures.quantization'

# The public names of ``mmrazor.structures.quantization`` in MMRazor 1.0.0
# (``backend_config.__all__`` + ``qconfig.__all__``); ``import *`` and the
# quantizers import exactly these.
QUANT_NAMES = (
    'BackendConfigs',
    'get_native_backend_config',
    'get_native_backend_config_dict',
    'get_academic_backend_config',
    'get_academic_backend_config_dict',
    'get_openvino_backend_config',
    'get_openvino_backend_config_dict',
    'get_tensorrt_backend_config',
    'get_tensorrt_backend_config_dict',
    'QConfigHandler',
    'QSchemeHandler',
)


class MMRazorQuantizationUnavailable(ImportError):
    """Raised when MMRazor quantization is used where it cannot import."""


class MMRazorImportFixOff(ImportError):
    """MMRazor does not import on this torch and ``mmrazor_import`` is off."""


class _Unavailable:
    """Stand-in for one public name of the quantization module.

    Calling it, indexing it or reading an attribute raises
    :class:`MMRazorQuantizationUnavailable` with the original cause.
    """

    def __init__(self, name: str, cause: str) -> None:
        self._name = name
        self._cause = cause

    def _fail(self, *args: Any, **kwargs: Any) -> None:
        import torch
        raise MMRazorQuantizationUnavailable(
            f'mmrazor.structures.quantization.{self._name} is unavailable: '
            f'MMRazor 1.0.0 quantization does not import on torch '
            f'{torch.__version__} ({self._cause}). fitnets_mm only makes '
            'MMRazor\'s distillation parts work on torch 2.x; quantization '
            'needs torch 1.13 with MMRazor 1.0.0.')

    __call__ = _fail
    __getitem__ = _fail

    def __getattr__(self, item: str) -> Any:
        if item.startswith('__'):
            raise AttributeError(item)
        self._fail()

    def __repr__(self) -> str:
        return f'<unavailable mmrazor quantization object {self._name!r}>'


class UnavailableQuantization(types.ModuleType):
    """Module object standing in for ``mmrazor.structures.quantization``."""

    def __init__(self, cause: str) -> None:
        super().__init__(QUANT_MODULE, __doc__)
        self.__all__ = list(QUANT_NAMES)
        self.__fitnets_mm_cause__ = cause
        for name in QUANT_NAMES:
            setattr(self, name, _Unavailable(name, cause))


def _raised_inside_quantization(err: BaseException) -> bool:
    """Whether ``err`` was raised from a file of the quantization package."""
    marker = osp.join('mmrazor', 'structures', 'quantization') + osp.sep
    frames = traceback.extract_tb(err.__traceback__)
    return any(marker in frame.filename for frame in frames)


def exec_with_fallback(module: types.ModuleType,
                       exec_module: Callable[[types.ModuleType], None]) -> None:
    """Import the quantization module; on its own failure, use the stand-in.

    Called by :mod:`fitnets_mm_startup`'s finder in place of the real
    loader's ``exec_module``.

    Args:
        module (ModuleType): The module object being imported.
        exec_module (Callable): The real loader's ``exec_module``.

    Raises:
        ImportError: Any import error not raised inside
            ``mmrazor/structures/quantization``, unchanged.
    """
    try:
        exec_module(module)
        return
    except ImportError as err:
        if not _raised_inside_quantization(err):
            raise
        cause = f'{type(err).__name__}: {err}'
    for name in list(sys.modules):
        if name.startswith(QUANT_MODULE + '.'):
            del sys.modules[name]
    # The import system returns what ``sys.modules`` holds after exec.
    sys.modules[QUANT_MODULE] = UnavailableQuantization(cause)
    from fitnets_mm_startup import announce
    import torch
    announce(
        'mmrazor_import',
        f'MMRazor\'s quantization module ({QUANT_MODULE}) is written for '
        f'torch 1.13 and does not import on torch {torch.__version__}; it '
        'is replaced by a stand-in, so that the rest of MMRazor '
        '(distillation) imports, and MMRazor quantization raises '
        'MMRazorQuantizationUnavailable, naming the cause, when used')


def patch_mmrazor_quantization() -> Optional[str]:
    """Install the import hook and import the quantization module through it.

    The stand-in is used if, and only if, the real module fails to import
    inside ``mmrazor/structures/quantization``
    (:func:`exec_with_fallback`).

    Returns:
        Optional[str]: ``None`` if the real module imported (nothing was
        changed), else the text of the import error that the stand-in
        replaces.

    Raises:
        ImportError: Any import error that is not raised inside
            ``mmrazor/structures/quantization`` (for example a missing
            ``mmcv``), unchanged.
    """
    import fitnets_mm_startup
    fitnets_mm_startup.install(startup=False)
    module = importlib.import_module(QUANT_MODULE)
    if isinstance(module, UnavailableQuantization):
        return module.__fitnets_mm_cause__
    return None


def import_mmrazor_models() -> None:
    """``import mmrazor.models``, with the stand-in where it is needed.

    Raises:
        MMRazorImportFixOff: The import fails inside
            ``mmrazor/structures/quantization`` and ``FITNETS_MM_COMPAT_OFF``
            turns this fix off; the one-line message names the fix and how
            to turn it back on.
        ImportError: Any other import error, unchanged.
    """
    import fitnets_mm_startup
    if fitnets_mm_startup.fix_enabled('mmrazor_import'):
        patch_mmrazor_quantization()
    try:
        import mmrazor.models  # noqa: F401
    except ImportError as err:
        if fitnets_mm_startup.fix_enabled('mmrazor_import') or \
                not _raised_inside_quantization(err):
            raise
        import torch
        off = os.environ.get(fitnets_mm_startup.ENV_VAR, '')
        raise MMRazorImportFixOff(
            'fitnets_mm needs its mmrazor_import fix: MMRazor 1.0.0\'s '
            f'{QUANT_MODULE} does not import on torch {torch.__version__}, '
            f'and {fitnets_mm_startup.ENV_VAR}={off!r} turns the fix off; '
            'remove "mmrazor_import" (or "all") from '
            f'{fitnets_mm_startup.ENV_VAR}.') from None
