"""openmim's ``mim`` commands on this (editable) install of fitnets_mm.

``pip install -e .`` puts fitnets_mm's distribution in site-packages and
imports the package from the source tree; mim 0.3.9 looked for it in
site-packages (``fitnets_mm.compat.mim_editable`` answers it). These tests
run the ``mim`` command itself, as a user types it.
"""
import os
import os.path as osp
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from utils.doc_blocks import commands, doc_block

from fitnets_mm.compat.mim_editable import editable_path

REPO_ROOT = Path(__file__).resolve().parents[2]
MIM = shutil.which('mim', path=osp.dirname(sys.executable)) or shutil.which(
    'mim')

pytestmark = pytest.mark.skipif(
    MIM is None, reason='openmim is not installed: pip install -e ".[mim]"')


def _mim(args: List[str], cwd: Path, timeout: float = 120,
         **env: str) -> subprocess.CompletedProcess:
    full_env: Dict[str, str] = dict(os.environ)
    full_env['PATH'] = (osp.dirname(sys.executable) + os.pathsep +
                        full_env.get('PATH', ''))
    full_env.setdefault('OMP_NUM_THREADS', '1')
    full_env.update(env)
    return subprocess.run([MIM, *args], cwd=cwd, env=full_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)


def _row(listing: str) -> List[str]:
    rows = [line.split() for line in listing.splitlines()
            if line.split()[:1] == ['fitnets-mm']]
    return rows[0] if rows else []


def _editable() -> bool:
    """Whether fitnets_mm's distribution lies where its package is not (an
    editable install, the case mim got wrong)."""
    import importlib.metadata as metadata
    location = str(metadata.distribution('fitnets_mm').locate_file(''))
    return not osp.isdir(osp.join(location, 'fitnets_mm'))


def test_editable_path_is_the_imported_package() -> None:
    assert editable_path('fitnets_mm') == str(REPO_ROOT / 'fitnets_mm')
    assert editable_path('fitnets-mm') == str(REPO_ROOT / 'fitnets_mm')
    assert editable_path('mmpretrain') is None


def test_mim_list_shows_fitnets_mm(tmp_path: Path) -> None:
    proc = _mim(['list'], tmp_path)
    assert proc.returncode == 0, proc.stdout
    row = _row(proc.stdout)
    assert row, proc.stdout
    from fitnets_mm.version import __version__
    assert row[1] == __version__
    if not _editable():
        return
    assert row[2] == str(REPO_ROOT / 'fitnets_mm')
    # Without the fix, mim 0.3.9 leaves the editable install out.
    off = _mim(['list'], tmp_path, FITNETS_MM_COMPAT_OFF='mim_editable')
    assert off.returncode == 0 and not _row(off.stdout), off.stdout


def test_mim_search_reads_the_model_index(tmp_path: Path) -> None:
    proc = _mim(['search', 'fitnets_mm'], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    index = yaml.safe_load((REPO_ROOT / 'model-index.yml').read_text())
    names = []
    for metafile in index['Import']:
        models = yaml.safe_load((REPO_ROOT / metafile).read_text())['Models']
        names += [m['Name'] for m in models]
    shown = [line.split(':', 1)[1].strip() for line in
             proc.stdout.splitlines() if line.startswith('config id:')]
    assert sorted(shown) == sorted(names)


def test_documented_mim_commands(tmp_path: Path) -> None:
    """get_started.md's block: ``mim list`` and ``mim search`` as written;
    ``mim train`` / ``mim test`` name a config of the package's ``.mim``
    and the options the one-epoch run below passes."""
    listing, search, train, test = [
        shlex.split(c) for c in commands(doc_block('mim-commands'))
    ]
    assert listing == ['mim', 'list'] and search[:2] == ['mim', 'search']
    proc = _mim(listing[1:], tmp_path)
    assert proc.returncode == 0 and _row(proc.stdout), proc.stdout
    proc = _mim(search[1:], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'config id:' in proc.stdout
    for command, verb, option in ((train, 'train', '--work-dir'),
                                  (test, 'test', '--checkpoint')):
        assert command[:3] == ['mim', verb, 'fitnets_mm'], command
        assert (REPO_ROOT / 'fitnets_mm' / '.mim' / command[3]).is_file()
        assert command[4] == option
    assert test[5] == train[5] + '/epoch_240.pth'
    # notes/mim.md shows the same commands, and mim download with the
    # options of test_mim_download below.
    *same, download = commands(doc_block('mim-notes'))
    assert [shlex.split(c) for c in same] == [listing, search, train, test]
    assert shlex.split(download) == [
        'mim', 'download', 'fitnets_mm', '--config', 'CONFIG_ID', '--dest',
        'checkpoints'
    ]


@pytest.mark.slow
def test_mim_train_and_test_one_epoch(toy_kd_config: Path,
                                      tmp_path: Path) -> None:
    """``mim train fitnets_mm CONFIG`` runs the package's tools/train.py."""
    work = tmp_path / 'work'
    proc = _mim(['train', 'fitnets_mm', str(toy_kd_config), '--work-dir',
                 str(work), '--cfg-options', 'train_dataloader.dataset.'
                 'indices=64', 'val_dataloader.dataset.indices=64'],
                tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert str(REPO_ROOT / 'fitnets_mm' / '.mim' / 'tools' / 'train.py') \
        in proc.stdout
    checkpoint = work / 'epoch_1.pth'
    assert checkpoint.is_file(), proc.stdout[-3000:]
    proc = _mim(['test', 'fitnets_mm', str(toy_kd_config), '--checkpoint',
                 str(checkpoint), '--work-dir', str(tmp_path / 'test'),
                 '--cfg-options', 'test_dataloader.dataset.indices=64'],
                tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'accuracy/top1' in proc.stdout


def test_mim_download(tmp_path: Path) -> None:
    """``mim download fitnets_mm --config ID``: the zoo's checkpoint (a
    ``fitnets_mm://`` path, copied offline) and the config."""
    from fitnets_mm.fileio.zoo_weights import zoo_path
    index = yaml.safe_load((REPO_ROOT / 'model-index.yml').read_text())
    models = [m for metafile in index['Import'] for m in yaml.safe_load(
        (REPO_ROOT / metafile).read_text())['Models'] if m.get('Weights')]
    assert models, 'no model of the metafiles has Weights'
    model = models[0]
    weights = model['Weights']
    assert weights.startswith('fitnets_mm://'), weights
    proc = _mim(['download', 'fitnets_mm', '--config', model['Name'],
                 '--dest', str(tmp_path)], tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (tmp_path / f'{model["Name"]}.py').is_file()
    copied = tmp_path / weights.split('/')[-1]
    assert copied.read_bytes() == Path(zoo_path(weights)).read_bytes()