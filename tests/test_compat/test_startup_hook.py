"""``fitnets_mm_startup``: MMRazor works as MMRazor whatever the import order,
and the interpreter-start hook costs nothing until MMRazor is imported."""
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


def _fresh_python(site_dir: Path, code: str, *flags: str,
                  **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter whose site dir holds our ``.pth``.

    ``site.addsitedir`` processes ``.pth`` files exactly as interpreter
    start does for site-packages.
    """
    prelude = f'import site; site.addsitedir({str(site_dir)!r})\n'
    full_env = {k: v for k, v in os.environ.items()
                if k != fitnets_mm_startup.ENV_VAR}
    full_env['PYTHONPATH'] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in full_env.get('PYTHONPATH', '').split(
            os.pathsep) if p])
    full_env.update(env)
    return subprocess.run(
        [sys.executable, *flags, '-c', prelude + textwrap.dedent(code)],
        capture_output=True, text=True, timeout=180, env=full_env,
        cwd=REPO_ROOT)


def _result(proc: subprocess.CompletedProcess) -> list:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [line.split()[1:] for line in proc.stdout.splitlines()
            if line.startswith('RESULT')][0]


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    (tmp_path / PTH.name).write_text(PTH.read_text())
    return tmp_path


def test_start_up_imports_only_the_hook_module(site_dir: Path,
                                               tmp_path: Path) -> None:
    """What the ``.pth`` line costs: one small module, no import machinery,
    logging, typing, torch or fitnets_mm (the old hook imported
    ``importlib.abc``, ``logging`` and ``typing`` at every start)."""
    empty = tmp_path / 'empty'
    empty.mkdir()
    # -S: no site-packages, so only this .pth runs; -I is not used, since
    # PYTHONPATH must find this checkout's fitnets_mm_startup.
    code = f"""
        import site, sys
        site.addsitedir({str(empty)!r})  # what addsitedir itself imports
        before = set(sys.modules)
        site.addsitedir({str(site_dir)!r})
        new = sorted(set(sys.modules) - before)
        print('RESULT', ','.join(new),
              type(sys.meta_path[0]).__name__)
        """
    proc = subprocess.run(
        [sys.executable, '-S', '-c', textwrap.dedent(code)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, 'PYTHONPATH': str(REPO_ROOT)})
    assert _result(proc) == ['fitnets_mm_startup', 'MMRazorFixFinder']


def test_import_announcements_leave_stdout_to_the_program(
        site_dir: Path) -> None:
    """``out=$(python -c 'import mmrazor...; print(x)')`` captures ``x``
    alone: before a runner exists the fixes are announced on stderr (they
    went to stdout through mmengine's default logger)."""
    proc = _fresh_python(site_dir, """
        import mmrazor.models
        print('RESULT only')
        """)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout == 'RESULT only\n'
    for fix in ('mmrazor_import', 'safe_checkpoint'):
        lines = [line for line in proc.stderr.splitlines()
                 if f'fitnets_mm.compat.{fix}:' in line]
        assert len(lines) == 1, proc.stderr
        assert ' - mmengine - INFO - ' in lines[0]


def test_finder_answers_none_to_everything_else() -> None:
    finder = MMRazorFixFinder()
    for name in ('json', 'torch', 'mmengine', 'mmrazor.models',
                 'fitnets_mm'):
        assert finder.find_spec(name, None) is None


def test_mmrazor_models_imports_without_fitnets_mm(site_dir: Path) -> None:
    proc = _fresh_python(site_dir, """
        import sys
        import mmrazor.models
        from mmrazor.models import ConfigurableDistiller
        from mmrazor.models.algorithms.base import BaseAlgorithm
        # fitnets_mm itself is not imported: no FitNets module registered.
        print('RESULT', 'fitnets_mm' in sys.modules,
              BaseAlgorithm.set_module_inplace_false.__module__)
        """)
    assert _result(proc) == ['False', 'fitnets_mm.compat.mmrazor_inplace']
    log = proc.stdout + proc.stderr
    # Announced once, in plain words, with the way to turn it off.
    assert log.count('fitnets_mm.compat.mmrazor_import:') == 1
    assert 'replaced by a stand-in' in log
    assert 'torch>=1.13' not in log
    assert 'FITNETS_MM_COMPAT_OFF=mmrazor_import' in log


# What importing MMRazor must leave alone: mmengine's config and hub
# lookups, its registries, checkpoint loaders, file backends, runner and
# launcher, MMPretrain's registries, and torch.load.
STATE = """
import json, sys
import mmengine.hub, mmengine.hub.hub as hub
import mmengine.config.config as config_module
import mmengine.dist.utils as dist_utils
import mmengine.runner.checkpoint as ckpt
import mmpretrain.registry
import torch
from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.fileio.backends import registry_utils
from mmengine.registry import MODELS, TRANSFORMS
from mmengine.runner import Runner

def state():
    return dict(
        cfg_path=repr(Config._get_cfg_path),
        hub=[repr(f) for f in (mmengine.hub.get_model, mmengine.hub.get_config,
                               hub.get_model, hub.get_installed_path,
                               config_module.get_installed_path)],
        module2package=dict(MODULE2PACKAGE),
        # MMRazor's own registries join mmengine's tree: upstream behaviour.
        children=[sorted(set(r._children) - {'mmrazor'})
                  for r in (MODELS, TRANSFORMS)],
        pretrain=sorted(mmpretrain.registry.TRANSFORMS._module_dict),
        loaders={k: repr(v)
                 for k, v in ckpt.CheckpointLoader._schemes.items()},
        load_from_http=repr(ckpt.load_from_http),
        backends={k: repr(v) for k, v in registry_utils.backends.items()},
        runner=[repr(getattr(Runner, n)) for n in ('build_evaluator',
                                                   'load_or_resume')],
        init_dist=repr(dist_utils._init_dist_pytorch),
        torch_load=repr(torch.load))
"""


def test_importing_mmrazor_changes_only_mmrazor_modules(
        site_dir: Path) -> None:
    proc = _fresh_python(site_dir, STATE + textwrap.dedent("""
        before = state()
        globals_before = len(torch.serialization.get_safe_globals())
        import mmrazor, mmrazor.registry, mmrazor.models, mmrazor.datasets
        from mmrazor.registry import MODELS as RAZOR_MODELS
        after = state()
        changed = sorted(k for k in before if before[k] != after[k])
        from mmengine.logging.history_buffer import HistoryBuffer
        allowed = HistoryBuffer in torch.serialization.get_safe_globals()
        wrapped = getattr(RAZOR_MODELS.build_func, '__wrapped__', None)
        print('RESULT', changed or 'nothing', allowed, wrapped is not None,
              'fitnets_mm' in sys.modules)
        """))
    # The one documented exception: safe_checkpoint's allow-list in torch.
    assert _result(proc) == ['nothing', 'True', 'True', 'False']


def test_register_all_modules_brings_the_mmcls_alias(site_dir: Path) -> None:
    """MMRazor's tools call it before reading ``mmcls::`` configs (and
    mmengine calls it on the first lookup in an MMRazor registry, which
    ``import mmrazor.engine`` makes)."""
    proc = _fresh_python(site_dir, """
        from mmengine.config.utils import MODULE2PACKAGE
        from mmrazor.utils import register_all_modules
        before = MODULE2PACKAGE['mmcls']
        register_all_modules(False)
        from mmpretrain.registry import TRANSFORMS
        print('RESULT', before, MODULE2PACKAGE['mmcls'],
              TRANSFORMS.get('PackClsInputs').__name__)
        """)
    assert _result(proc) == ['mmcls', 'mmpretrain', 'PackInputs']


def test_bad_switch_value_gives_one_warning_line(site_dir: Path) -> None:
    proc = _fresh_python(
        site_dir, """
        import mmrazor.registry
        print('RESULT', 'ok')
        """, FITNETS_MM_COMPAT_OFF='mmcls_scop,startup_hook ')
    assert _result(proc) == ['ok']
    assert 'Traceback' not in proc.stderr
    warnings = [line for line in proc.stderr.splitlines()
                if 'FITNETS_MM_COMPAT_OFF' in line]
    assert len(warnings) == 1, proc.stderr
    assert "names unknown fixes ['mmcls_scop'], ignored" in warnings[0]


def test_all_off_names_the_fix_fitnets_mm_needs() -> None:
    proc = subprocess.run(
        [sys.executable, '-c', 'import fitnets_mm'],
        capture_output=True, text=True, timeout=180, cwd=REPO_ROOT,
        env={**os.environ, 'FITNETS_MM_COMPAT_OFF': 'all'})
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith('fitnets_mm.compat.mmrazor_import.'
                           'MMRazorImportFixOff: fitnets_mm needs its '
                           'mmrazor_import fix'), last
    assert "FITNETS_MM_COMPAT_OFF='all'" in last
    assert 'torch>=1.13' not in proc.stderr
    assert 'During handling' not in proc.stderr  # one error, not a chain


def test_hook_turned_off_leaves_mmrazor_untouched(site_dir: Path) -> None:
    proc = _fresh_python(
        site_dir, 'import mmrazor.models',
        FITNETS_MM_COMPAT_OFF='startup_hook')
    assert proc.returncode != 0
    assert 'torch>=1.13' in proc.stderr  # MMRazor's own error


def test_finder_wraps_only_the_fixed_modules() -> None:
    finder = MMRazorFixFinder()
    import mmrazor
    folder = Path(mmrazor.__file__).parent / 'models' / 'algorithms'
    spec = finder.find_spec('mmrazor.models.algorithms.base', [str(folder)])
    assert spec is not None
    assert type(spec.loader).__name__ == '_FixingLoader'
    assert set(FIXES) == {
        'mmrazor', 'mmrazor.structures.quantization',
        'mmrazor.models.algorithms.base',
        'mmrazor.models.architectures.dynamic_ops.bricks.dynamic_container',
        'mmrazor.models.losses.kd_soft_ce_loss',
        'mmrazor.datasets.transforms.formatting', 'mmrazor.registry.registry',
        'mmrazor.utils.setup_env', 'mmrazor.models.losses', 'mim.utils.utils', 'mim.commands.list',
        'mim.cli'
    }
    # Every fix names a switch and a function that exists.
    for switch, where, func, when in FIXES.values():
        assert switch in fitnets_mm_startup.FIX_NAMES
        assert hasattr(fitnets_mm_startup.feature_module(where), func)
        assert when in ('after', 'around')


def test_fix_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fitnets_mm_startup.ENV_VAR, 'mmcls_scope, mmcls_rename')
    assert not fix_enabled('mmcls_scope')
    assert not fix_enabled('mmcls_rename')
    assert fix_enabled('mmrazor_inplace')
    monkeypatch.setenv(fitnets_mm_startup.ENV_VAR, 'all')
    assert not fix_enabled('mmrazor_inplace')
    with pytest.raises(ValueError, match='unknown fitnets_mm fix'):
        fix_enabled('everything')
