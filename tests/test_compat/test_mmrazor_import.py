"""``fitnets_mm.compat.mmrazor_import``: MMRazor 1.0.0 on PyTorch 2.x."""
import os
import subprocess
import sys
import textwrap
import types

import pytest
import torch
from mmengine.utils import digit_version

import fitnets_mm  # noqa: F401
from fitnets_mm.compat.mmrazor_import import (QUANT_MODULE, QUANT_NAMES,
                                              MMRazorQuantizationUnavailable,
                                              UnavailableQuantization,
                                              patch_mmrazor_quantization)

TORCH_2 = digit_version(torch.__version__) >= digit_version('2.0.0')


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


@pytest.mark.skipif(not TORCH_2, reason='the problem exists on torch 2.x')
def test_plain_mmrazor_models_import_fails_on_torch2() -> None:
    # The interpreter-start hook (fitnets_mm_startup) turned off, as without
    # fitnets_mm installed.
    proc = _python('import mmrazor.models', FITNETS_MM_COMPAT_OFF='all')
    assert proc.returncode != 0
    assert 'ImportError' in proc.stderr
    assert 'quantization' in proc.stderr


def test_mmrazor_models_import_after_fitnets_mm() -> None:
    proc = _python("""
        import fitnets_mm
        import mmrazor.models
        from mmrazor.models import ConfigurableDistiller, SingleTeacherDistill
        print('ok')
    """)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith('ok')


@pytest.mark.skipif(not TORCH_2, reason='the stand-in is used on torch 2.x')
def test_stand_in_raises_naming_the_cause() -> None:
    module = sys.modules[QUANT_MODULE]
    assert isinstance(module, UnavailableQuantization)
    from mmrazor.structures.quantization import QConfigHandler
    with pytest.raises(MMRazorQuantizationUnavailable) as info:
        QConfigHandler(dict())
    message = str(info.value)
    assert 'QConfigHandler' in message
    assert torch.__version__ in message
    assert module.__fitnets_mm_cause__ in message  # the original error
    # The stand-in is an ImportError, so ``except ImportError`` still works.
    assert isinstance(info.value, ImportError)


@pytest.mark.skipif(not TORCH_2, reason='the stand-in is used on torch 2.x')
def test_mmrazor_quantizer_fails_clearly_when_built() -> None:
    from mmrazor.registry import MODELS
    cfg = dict(
        type='mmrazor.AcademicQuantizer',
        qconfig_mapping=dict(global_qconfig=dict(
            w_observer=dict(type='mmrazor.PerChannelMinMaxObserver'))))
    with pytest.raises(MMRazorQuantizationUnavailable,
                       match='quantization does not import on torch'):
        MODELS.build(cfg)


def test_unrelated_import_error_propagates() -> None:
    # mmcv hidden: ``import mmrazor`` fails outside the quantization package.
    proc = _python("""
        import sys
        sys.modules['mmcv'] = None
        try:
            import fitnets_mm
        except ImportError as err:
            from fitnets_mm.compat.mmrazor_import import (
                MMRazorQuantizationUnavailable, QUANT_MODULE)
            assert not isinstance(err, MMRazorQuantizationUnavailable)
            assert QUANT_MODULE not in sys.modules, 'stand-in installed'
            print('propagated:', err)
        else:
            print('no error')
    """)
    assert proc.returncode == 0, proc.stderr
    assert 'propagated:' in proc.stdout
    assert 'mmcv' in proc.stdout


def test_nothing_touched_when_real_import_works(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = types.ModuleType(QUANT_MODULE)
    for name in QUANT_NAMES:
        setattr(real, name, object())
    structures = sys.modules['mmrazor.structures']
    monkeypatch.setitem(sys.modules, QUANT_MODULE, real)
    assert patch_mmrazor_quantization() is None
    assert sys.modules[QUANT_MODULE] is real
    assert sys.modules['mmrazor.structures'] is structures


def test_real_import_in_a_fresh_interpreter_is_kept() -> None:
    # As on torch 1.13, where MMRazor's quantization imports: the module
    # found first stays, and no stand-in is made.
    proc = _python(f"""
        import sys, types
        real = types.ModuleType({QUANT_MODULE!r})
        real.__all__ = []
        for name in {QUANT_NAMES!r}:
            setattr(real, name, object())
        sys.modules[{QUANT_MODULE!r}] = real
        import fitnets_mm, mmrazor.models
        assert sys.modules[{QUANT_MODULE!r}] is real
        print('kept')
    """)
    assert proc.returncode == 0, proc.stderr
    assert 'kept' in proc.stdout

