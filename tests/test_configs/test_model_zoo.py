"""The model zoo (``configs/fitnets/paper/metafile.yml``, files in ``zoo/``):
every ``Weights`` loads offline into its config's model, its log holds the
accuracy the metafile claims, and the files stay small; the slow tier tests
each model on its test split with ``tools/test.py`` and gets that accuracy."""
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import yaml
from utils.doc_blocks import commands, doc_block
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS

import fitnets_mm  # noqa: F401
from fitnets_mm.fileio.zoo_weights import zoo_names, zoo_path

REPO_ROOT = Path(__file__).resolve().parents[2]
METAFILE = REPO_ROOT / 'configs' / 'fitnets' / 'paper' / 'metafile.yml'
FASHION = Path('/usr/share/datasets/fashion-mnist')
SHARED_SPLIT = REPO_ROOT.parent / 'shared' / 'data' / 'make_mnist_split.py'


def _models() -> List[dict]:
    return yaml.safe_load(METAFILE.read_text())['Models']


def _ids() -> List[str]:
    return [m['Name'] for m in _models()]


def test_the_zoo_has_mnist_models_and_is_small() -> None:
    models = _models()
    assert any(m['Results'][0]['Dataset'] == 'MNIST' for m in models)
    # Every shipped file is a model of the metafile, and they are small.
    weights = {m['Weights'] for m in models}
    assert set(zoo_names()) == weights
    sizes = [os.path.getsize(zoo_path(w)) for w in weights]
    assert max(sizes) < 5 * 2**20 and sum(sizes) < 30 * 2**20


@pytest.mark.parametrize('model', _models(), ids=_ids())
def test_weights_load_into_the_config_and_match_the_log(model: dict) -> None:
    path = zoo_path(model['Weights'])
    sha = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert re.search(rf'-{sha[:8]}\.pth$', path), path
    cfg = Config.fromfile(str(REPO_ROOT / model['Config']))
    net = MODELS.build(cfg.model)
    load_checkpoint(net, model['Weights'], map_location='cpu', strict=True)
    meta = model['Metadata']
    assert (REPO_ROOT / meta['Training Config']).is_file()
    log = [json.loads(line) for line in
           (REPO_ROOT / meta['Training Log']).read_text().splitlines()]
    vals = [r for r in log if 'accuracy/top1' in r]
    assert vals[-1]['step'] == meta['Epochs']
    top1 = model['Results'][0]['Metrics']['Top 1 Accuracy']
    assert round(vals[-1]['accuracy/top1'], 2) == top1


def _test_args(model: dict, tmp_path: Path) -> List[str]:
    dataset = model['Results'][0]['Dataset']
    if dataset == 'Fashion-MNIST':
        if not (FASHION / 't10k-images-idx3-ubyte.gz').is_file():
            pytest.skip('apt-get install dataset-fashion-mnist')
        return []
    if not SHARED_SPLIT.is_file():
        pytest.skip('the MNIST split needs ../shared')
    subprocess.run([sys.executable, str(SHARED_SPLIT), str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    return ['--cfg-options', f'test_dataloader.dataset.data_root={tmp_path}']


@pytest.mark.slow
@pytest.mark.parametrize('model', _models(), ids=_ids())
def test_tools_test_reproduces_the_accuracy(model: dict,
                                            tmp_path: Path) -> None:
    args = _test_args(model, tmp_path / 'data')
    proc = subprocess.run(
        [sys.executable, 'tools/test.py', model['Config'], model['Weights'],
         '--work-dir', str(tmp_path / 'work'), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    found = re.findall(r'accuracy/top1: ([\d.]+)', proc.stdout)
    top1 = model['Results'][0]['Metrics']['Top 1 Accuracy']
    assert round(float(found[-1]), 2) == top1


def test_the_model_zoo_page_commands(tmp_path: Path) -> None:
    """``docs/en/model_zoo.md``'s commands, run as written in a folder laid
    out like a clone: ``tools/test.py`` on a ``fitnets_mm://`` path gets the
    metafile's accuracy, and ``mim download`` copies the file."""
    clone = tmp_path / 'fitnets_mm'
    clone.mkdir()
    for name in ('configs', 'tools'):
        (clone / name).symlink_to(REPO_ROOT / name)
    test, download = [shlex.split(c) for c in commands(doc_block('zoo-use'))]
    assert test[:2] == ['python', 'tools/test.py']
    model = next(m for m in _models() if m['Weights'] == test[3])
    assert test[2] == model['Config']
    if 'data/mnist' in ' '.join(test):
        _test_args(model, clone / 'data' / 'mnist')
    else:
        _test_args(model, tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable] + test[1:], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    found = re.findall(r'accuracy/top1: ([\d.]+)', proc.stdout)
    assert round(float(found[-1]), 2) == \
        model['Results'][0]['Metrics']['Top 1 Accuracy']
    assert download[:5] == ['mim', 'download', 'fitnets_mm', '--config',
                            model['Name']]
    mim = Path(sys.executable).with_name('mim')
    proc = subprocess.run([str(mim)] + download[1:], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    copied = clone / download[-1] / test[3].split('/')[-1]
    assert copied.read_bytes() == Path(zoo_path(test[3])).read_bytes()
