"""``fitnets_mm_startup``: MMRazor works as MMRazor whatever the import order."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fitnets_mm_startup
from fitnets_mm_startup import FIXES, MMRazorFixFinder, fix_enabled

REPO_ROOT = Path(__file__).resolve().parents[2]
PTH = REPO_ROOT / 'fitnets_mm-mmrazor-compat.pth'


def _fresh_python(site_dir: Path, code: str,
                  **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter whose site dir holds our ``.pth``.

    ``site.addsitedir`` processes ``.pth`` files exactly as interpreter
    start does for site-packages.
    """
    prelude = f'import site; site.addsitedir({str(site_dir)!r})\n'
    full_env = {k: v for k, v in os.environ.items()
                if k != fitnets_mm_startup.ENV_VAR}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, '-c', prelude + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=180, env=full_env,
        cwd=REPO_ROOT)


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    (tmp_path / PTH.name).write_text(PTH.read_text())
    return tmp_path


def test_mmrazor_models_imports_without_fitnets_mm(site_dir: Path) -> None:
    proc = _fresh_python(site_dir, """
        import sys
        import mmrazor.models
        from mmrazor.models import ConfigurableDistiller
        from mmrazor.models.algorithms.base import BaseAlgorithm
        from mmengine.config.utils import MODULE2PACKAGE
        # fitnets_mm itself is not imported: no FitNets module registered.
        print('RESULT', 'fitnets_mm' in sys.modules,
              BaseAlgorithm.set_module_inplace_false.__module__,
              MODULE2PACKAGE['mmcls'])
        """)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = [line for line in proc.stdout.splitlines()
              if line.startswith('RESULT')]
    assert result[0].split()[1:] == [
        'False', 'fitnets_mm.compat.mmrazor_inplace', 'mmpretrain'
    ]
    log = proc.stdout + proc.stderr
    # Announced once, with the way to turn it off.
    assert log.count('fitnets_mm.compat.mmrazor_import:') == 1
    assert 'FITNETS_MM_COMPAT_OFF=mmrazor_import' in log


def test_hook_turned_off_leaves_mmrazor_untouched(site_dir: Path) -> None:
    proc = _fresh_python(
        site_dir, 'import mmrazor.models',
        FITNETS_MM_COMPAT_OFF='startup_hook')
    assert proc.returncode != 0
    assert 'torch>=1.13' in proc.stderr


def test_finder_wraps_only_the_fixed_modules() -> None:
    finder = MMRazorFixFinder()
    assert finder.find_spec('json', None) is None
    assert finder.find_spec('mmrazor', None) is None
    import mmrazor
    folder = Path(mmrazor.__file__).parent / 'models' / 'algorithms'
    spec = finder.find_spec('mmrazor.models.algorithms.base', [str(folder)])
    assert spec is not None
    assert type(spec.loader).__name__ == '_FixingLoader'
    assert set(FIXES) == {
        'mmrazor.structures.quantization', 'mmrazor.models.algorithms.base',
        'mmrazor.models.architectures.dynamic_ops.bricks.dynamic_container',
        'mmrazor.models.losses.kd_soft_ce_loss', 'mmrazor.registry.registry',
        'mmrazor.models.losses'
    }


def test_fix_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fitnets_mm_startup.ENV_VAR, 'mmcls_scope, mmcls_rename')
    assert not fix_enabled('mmcls_scope')
    assert not fix_enabled('mmcls_rename')
    assert fix_enabled('mmrazor_inplace')
    monkeypatch.setenv(fitnets_mm_startup.ENV_VAR, 'all')
    assert not fix_enabled('mmrazor_inplace')
    with pytest.raises(ValueError, match='unknown fitnets_mm fix'):
        fix_enabled('everything')
