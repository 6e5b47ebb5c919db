"""Packaging: ``fitnets_mm/.mim``, ``fitnets_mm::`` config paths, the
start-up hook's ``.pth`` file in a build."""
import subprocess
import sys
from pathlib import Path

import yaml
from mmengine.config import Config

import fitnets_mm  # noqa: F401
from fitnets_mm.compat.config_scope import package_path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_mim_layout_of_the_installed_package() -> None:
    # What `mim train fitnets_mm CONFIG` runs and reads.
    mim = Path(package_path()) / '.mim'
    assert (mim / 'tools' / 'train.py').is_file()
    assert (mim / 'tools' / 'test.py').is_file()
    index = yaml.safe_load((mim / 'model-index.yml').read_text())
    for metafile in index['Import']:
        models = yaml.safe_load((mim / metafile).read_text())['Models']
        for model in models:
            assert (mim / model['Config']).is_file(), model['Config']


def test_fitnets_mm_scope_config_paths(tmp_path: Path) -> None:
    import mmengine.config.config as config_module
    assert config_module.get_installed_path('fitnets_mm') == package_path()
    leaf = tmp_path / 'leaf.py'
    leaf.write_text("_base_ = ['fitnets_mm::fitnets/fitnets_resnet34-"
                    "resnet50-thin_1xb128_cifar10.py']\n"
                    'train_cfg = dict(hint_epochs=1)\n')
    cfg = Config.fromfile(str(leaf))
    assert cfg.train_cfg.hint_epochs == 1
    assert cfg.train_cfg.kd_epochs == 200
    assert cfg.model.type == 'FitNetsDistill'


def test_mim_tools_train_runs(tmp_path: Path) -> None:
    mim = Path(package_path()) / '.mim'
    proc = subprocess.run([sys.executable, str(mim / 'tools' / 'train.py'),
                           '--help'], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '--cfg-options' in proc.stdout


def test_build_adds_the_mim_files_and_the_startup_hook(
        tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, 'setup.py', '-q', 'build_py', '-d',
         str(tmp_path / 'lib')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    mim = tmp_path / 'lib' / 'fitnets_mm' / '.mim'
    assert not (mim / 'configs').is_symlink()
    assert (mim / 'configs' / 'fitnet_cifar10.py').is_file()
    assert (mim / 'tools' / 'train.py').is_file()
    assert (mim / 'model-index.yml').is_file()
    # the model zoo's weights, and nothing left of an earlier build
    zoo = sorted(p.name for p in (REPO_ROOT / 'zoo').rglob('*.pth'))
    assert zoo and sorted(p.name for p in (mim / 'zoo').rglob('*.pth')) == zoo
    stale = mim / 'zoo' / 'mnist' / 'old_20200101-00000000.pth'
    stale.write_bytes(b'x')
    proc = subprocess.run(
        [sys.executable, 'setup.py', '-q', 'build_py', '-d',
         str(tmp_path / 'lib')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists()
    # The start-up hook goes to the wheel's root, i.e. site-packages.
    pth = 'fitnets_mm-mmrazor-compat.pth'
    assert (tmp_path / 'lib' / pth).read_text() == (REPO_ROOT /
                                                    pth).read_text()
    assert (tmp_path / 'lib' / 'fitnets_mm_startup.py').is_file()


def test_editable_wheel_gets_the_startup_hook(tmp_path: Path) -> None:
    # `pip install -e .` (PEP 660) installs this wheel: without the added
    # .pth the start-up hook would be missing from development installs.
    import zipfile
    proc = subprocess.run(
        [sys.executable, '-c', 'from setuptools import build_meta; '
         f'print(build_meta.build_editable({str(tmp_path)!r}))'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel = tmp_path / proc.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read('fitnets_mm-mmrazor-compat.pth').decode() == (
            REPO_ROOT / 'fitnets_mm-mmrazor-compat.pth').read_text()


def test_sdist_holds_what_the_wheel_copies_into_mim(tmp_path: Path) -> None:
    """``python -m build`` builds the wheel from the sdist, so the sdist
    must hold configs, tools, model-index.yml, the zoo and the ``.pth``."""
    import tarfile
    proc = subprocess.run(
        [sys.executable, 'setup.py', '-q', 'sdist', '-d', str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [sdist] = tmp_path.glob('*.tar.gz')
    with tarfile.open(sdist) as archive:
        names = {n.split('/', 1)[1] for n in archive.getnames() if '/' in n}
    zoo = {str(p.relative_to(REPO_ROOT)) for p in
           (REPO_ROOT / 'zoo').rglob('*') if p.is_file()}
    assert zoo and zoo <= names
    assert {'configs/fitnet_cifar10.py', 'tools/train.py', 'model-index.yml',
            'fitnets_mm-mmrazor-compat.pth',
            'configs/fitnets/paper/metafile.yml'} <= names
