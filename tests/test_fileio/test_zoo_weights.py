"""``fitnets_mm://`` paths: the model zoo shipped with the package, loaded
offline by mmengine's ``CheckpointLoader`` with the name's hash checked."""
import hashlib
import shutil
from pathlib import Path

import pytest
import torch
from mmengine.runner import CheckpointLoader

import fitnets_mm  # noqa: F401  (registers the loader)
from fitnets_mm.fileio import ZooWeightsDamaged, zoo_weights
from fitnets_mm.fileio.zoo_weights import (ZooWeightsNotFound, zoo_folder,
                                           zoo_names, zoo_path)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / 'zoo'
    (folder / 'mnist').mkdir(parents=True)
    path = tmp_path / 'w.pth'
    torch.save(dict(state_dict=dict(w=torch.arange(3.))), path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
    shutil.copy(path, folder / 'mnist' / f'teacher_20261202-{sha}.pth')
    monkeypatch.setattr(zoo_weights, 'zoo_folder', lambda: str(folder))
    return folder


def test_the_zoo_is_the_packages_mim_folder() -> None:
    assert Path(zoo_folder()) == REPO_ROOT / 'fitnets_mm' / '.mim' / 'zoo'
    assert (REPO_ROOT / 'fitnets_mm' / '.mim' / 'zoo').resolve() == \
        REPO_ROOT / 'zoo'


def test_checkpoint_loader_reads_a_zoo_path(zoo: Path) -> None:
    [name] = zoo_names()
    assert name.startswith('fitnets_mm://mnist/teacher_20261202-')
    ckpt = CheckpointLoader.load_checkpoint(name, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'], torch.arange(3.))


def test_a_damaged_zoo_file_is_refused(zoo: Path) -> None:
    [name] = zoo_names()
    path = Path(zoo_path(name))
    path.write_bytes(path.read_bytes()[:-1] + b'x')
    with pytest.raises(ZooWeightsDamaged, match='but its name promises'):
        CheckpointLoader.load_checkpoint(name)


def test_unknown_and_escaping_paths_are_one_line_errors(zoo: Path) -> None:
    with pytest.raises(ZooWeightsNotFound) as err:
        CheckpointLoader.load_checkpoint('fitnets_mm://mnist/nope.pth')
    message = str(err.value)
    assert '\n' not in message
    assert 'fitnets_mm://mnist/nope.pth is not in the model zoo' in message
    assert 'expected one of: fitnets_mm://mnist/teacher_20261202-' in message
    with pytest.raises(ValueError, match='leaves the model zoo'):
        zoo_path('fitnets_mm://../secret.pth')
    for escaping in ('fitnets_mm:///etc/x.pth', 'fitnets_mm://a\\..\\..\\x',
                     'fitnets_mm://'):
        with pytest.raises(ValueError, match='leaves the model zoo'):
            zoo_path(escaping)
    with pytest.raises(ValueError, match='is not a model zoo path'):
        zoo_path('/tmp/x.pth')


def test_an_unnormalised_package_path_still_resolves(
        zoo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [name] = zoo_names()
    unnormalised = str(zoo / 'mnist' / '..')
    monkeypatch.setattr(zoo_weights, 'zoo_folder', lambda: unnormalised)
    assert Path(zoo_path(name)).is_file()
