"""``setup.py`` declares what a fresh install needs, with working ranges."""
import importlib.metadata
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from packaging.requirements import Requirement
from utils.setup_py import setup_value

SETUP_PY = Path(__file__).resolve().parents[2] / 'setup.py'


def _literal(name: str) -> object:
    """The value assigned to ``name`` (or passed as ``name=``), from
    literals and the module-level names bound to them."""
    return setup_value(name)


def _requirements(items: List[str]) -> Dict[str, Requirement]:
    reqs = [Requirement(item) for item in items]
    return {req.name.lower(): req for req in reqs}


@pytest.fixture(scope='module')
def install_requires() -> Dict[str, Requirement]:
    return _requirements(_literal('install_requires'))


def test_torch_is_a_range_admitting_2x(
        install_requires: Dict[str, Requirement]) -> None:
    for name in ('torch', 'torchvision'):
        spec = install_requires[name].specifier
        assert all(s.operator != '==' for s in spec), (
            f'{name} must be a range, not a pin: {spec}')
        installed = importlib.metadata.version(name).split('+')[0]
        assert spec.contains(installed), f'{name} {installed} not in {spec}'
    assert install_requires['torch'].specifier.contains('2.6.0')


def test_openmmlab_versions(install_requires: Dict[str, Requirement]) -> None:
    mmcv = install_requires['mmcv-lite'].specifier
    assert mmcv.contains('2.1.0') and not mmcv.contains('2.2.0')
    assert install_requires['mmengine'].specifier.contains('0.10.7')
    assert install_requires['mmpretrain'].specifier.contains('1.2.0')
    assert install_requires['mmrazor'].specifier.contains('1.0.0')
    assert not install_requires['mmrazor'].specifier.contains('1.1.0')


def test_undeclared_upstream_needs(
        install_requires: Dict[str, Requirement]) -> None:
    assert 'joblib' in install_requires  # imported by mmrazor
    setuptools = install_requires['setuptools'].specifier
    assert setuptools.contains('79.0.1') and not setuptools.contains('80.0')


def test_tests_extra_has_pytest() -> None:
    extras = _literal('extras_require')
    assert 'pytest' in _requirements(extras['tests'])


def test_documented_extras() -> None:
    """What ``pip install -e ".[tests]"``, ``".[tensorboard]"``,
    ``".[wandb]"`` and ``".[benchmark]"`` (README, docs) install."""
    extras = {name: _requirements(reqs)
              for name, reqs in _literal('extras_require').items()}
    # the docs site is built by the tests (tests/test_docs)
    assert {'pytest', 'sphinx', 'myst-parser'} <= set(extras['tests'])
    assert 'tensorboard' in extras['tensorboard']
    assert 'wandb' in extras['wandb']
    assert 'torchdistill' in extras['benchmark']
    # ".[mim]": openmim with setuptools held where torch needs it.
    assert {'openmim', 'setuptools'} <= set(extras['mim'])
    assert {'openmim', 'setuptools'} <= set(extras['tests'])


def test_installed_environment_satisfies_setup(
        install_requires: Dict[str, Requirement]) -> None:
    for name, req in install_requires.items():
        version = importlib.metadata.version(name).split('+')[0]
        assert req.specifier.contains(version, prereleases=True), (
            f'installed {name} {version} does not satisfy {req}')


def test_pkg_resources_imports() -> None:
    # mmengine 0.10.7 finds packages (``mmpretrain::`` configs) through
    # pkg_resources, which setuptools >= 80 no longer has.
    proc = subprocess.run(
        [sys.executable, '-W', 'ignore', '-c',
         'import pkg_resources\n'
         'from mmengine.utils import get_installed_path\n'
         'print(get_installed_path("mmpretrain"))'],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert 'mmpretrain' in proc.stdout
