"""``tools/model_converters/fitnets_to_student.py``: the exported student
loads into its plain MMPretrain config and predicts as the distilled one."""
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmpretrain.apis import ImageClassificationInferencer, get_model
from mmpretrain.datasets import CIFAR10

from utils.tool_checkpoints import (FITNET_CIFAR10, REPO_ROOT, STUDENT_CONFIG,
                                  run_tool, tiny_checkpoint, write_images)
from fitnets_mm.export import export_student, student_checkpoint

TOOL = 'tools/model_converters/fitnets_to_student.py'
LOAD_AND_PACK = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]


@pytest.fixture(scope='module')
def exported(tmp_path_factory: pytest.TempPathFactory
             ) -> Tuple[Path, Path, torch.nn.Module]:
    """A FitNets checkpoint, the tool's export of it, and the algorithm."""
    folder = tmp_path_factory.mktemp('fitnets_to_student')
    _, checkpoint, algorithm = tiny_checkpoint(folder)
    out = folder / 'student' / 'resnet50-thin_cifar10.pth'
    return checkpoint, out, algorithm


@pytest.fixture(scope='module')
def student_file(exported: Tuple[Path, Path, torch.nn.Module]) -> Path:
    """Run the tool once (as a user would) and return its output file."""
    checkpoint, out, _ = exported
    proc = subprocess.run(
        [sys.executable, TOOL, str(checkpoint), str(out)],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'state-dict keys' in proc.stdout
    return out


def _predict(model: torch.nn.Module, paths: List[Path]) -> torch.Tensor:
    """Scores of ``model`` on image files loaded as MMPretrain loads them."""
    init_default_scope('mmpretrain')
    pipeline = Compose(LOAD_AND_PACK)
    data = pseudo_collate([pipeline(dict(img_path=str(p))) for p in paths])
    with torch.no_grad():
        samples = model.test_step(data)
    return torch.stack([s.pred_score for s in samples])


def test_help(capsys: pytest.CaptureFixture) -> None:
    code, out = run_tool(TOOL, ['--help'], capsys)
    assert code == 0
    assert '--keep-meta' in out and 'checkpoint' in out and 'out' in out


def test_exported_keys_are_the_student_only(
        exported: Tuple[Path, Path, torch.nn.Module],
        student_file: Path) -> None:
    _, _, algorithm = exported
    # Plain weights-only torch.load, without fitnets_mm's allow-list: any
    # MMPretrain install can read it.
    ckpt = torch.load(student_file, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'meta', 'state_dict'}
    assert ckpt['meta'] == dict(
        dataset_meta=dict(classes=CIFAR10.METAINFO['classes']))
    state = ckpt['state_dict']
    assert not [k for k in state if k.startswith(
        ('architecture.', 'teacher.', 'regressors.', 'distiller.',
         'data_preprocessor.'))]
    expected = algorithm.architecture.state_dict()
    assert set(state) == set(expected)
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


def test_keep_meta_and_key_count(exported: Tuple[Path, Path,
                                                 torch.nn.Module],
                                 tmp_path: Path) -> None:
    checkpoint, _, algorithm = exported
    count = export_student(checkpoint, tmp_path / 'full_meta.pth',
                           keep_meta=True)
    assert count == len(algorithm.architecture.state_dict())
    meta = torch.load(tmp_path / 'full_meta.pth', weights_only=True)['meta']
    assert meta['epoch'] == 1 and meta['iter'] == 2
    assert 'FitNetsDistill' in meta['cfg']
    assert meta['dataset_meta']['classes'] == CIFAR10.METAINFO['classes']


def test_refuses_a_checkpoint_without_a_student(student_file: Path,
                                                tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r'no "architecture\.\*" keys.*'
                       r'backbone'):
        export_student(student_file, tmp_path / 'again.pth')
    assert not (tmp_path / 'again.pth').exists()
    with pytest.raises(ValueError, match='architecture'):
        student_checkpoint({'state_dict': {'teacher.w': torch.ones(1)}})


def test_get_model_gives_identical_predictions(
        exported: Tuple[Path, Path, torch.nn.Module],
        student_file: Path) -> None:
    _, _, algorithm = exported
    student = get_model(str(STUDENT_CONFIG), pretrained=str(student_file))
    student.eval()
    assert student._dataset_meta['classes'] == CIFAR10.METAINFO['classes']
    gen = torch.Generator().manual_seed(1)
    data = dict(inputs=[
        torch.randint(0, 256, (3, 32, 32), generator=gen, dtype=torch.uint8)
        for _ in range(4)
    ])
    with torch.no_grad():
        inputs = student.data_preprocessor(data)['inputs']
        assert torch.equal(inputs, algorithm.data_preprocessor(data)['inputs'])
        logits = student(inputs, mode='tensor')
        distilled = algorithm.architecture(inputs, mode='tensor')
        # The algorithm's own predict path (what its test loop runs).
        algo_scores = torch.stack([
            s.pred_score for s in algorithm(inputs, None, mode='predict')
        ])
    assert torch.equal(logits, distilled)
    assert torch.equal(logits.softmax(dim=1), algo_scores)


def test_inferencer_predicts_the_same_class(
        exported: Tuple[Path, Path, torch.nn.Module], student_file: Path,
        tmp_path: Path) -> None:
    _, _, algorithm = exported
    images = write_images(tmp_path, 2, seed=3)
    inferencer = ImageClassificationInferencer(
        model=str(STUDENT_CONFIG), pretrained=str(student_file))
    results = inferencer([str(p) for p in images])
    scores = _predict(algorithm, images)
    for result, score in zip(results, scores):
        label = int(score.argmax())
        assert result['pred_label'] == label
        assert result['pred_class'] == CIFAR10.METAINFO['classes'][label]
        assert torch.allclose(
            torch.as_tensor(result['pred_scores']), score, atol=1e-6)


def _image_folder(root: Path) -> List[Path]:
    """An MMPretrain ``CustomDataset`` folder: two classes, two images each.
    """
    return (write_images(root / 'airplane', 2, seed=5) +
            write_images(root / 'cat', 2, seed=6))


def test_tools_test_py_loads_the_student(
        exported: Tuple[Path, Path, torch.nn.Module], student_file: Path,
        tmp_path: Path, run_cli: Callable) -> None:
    _, _, algorithm = exported
    data_root = tmp_path / 'images'
    _image_folder(data_root)
    config = tmp_path / 'student_on_images.py'
    config.write_text(
        f'_base_ = [{str(STUDENT_CONFIG)!r}]\n'
        'test_dataloader = dict(batch_size=4, num_workers=0, dataset=dict('
        f'_delete_=True, type="CustomDataset", data_root={str(data_root)!r},'
        f' pipeline={LOAD_AND_PACK!r}))\n')
    preds_file = tmp_path / 'preds.pkl'
    proc = run_cli(['python', 'tools/test.py', config, student_file,
                    '--work-dir', tmp_path / 'work', '--out', preds_file])
    assert 'Epoch(test)' in proc.stdout
    with open(preds_file, 'rb') as f:
        preds: List[Dict] = pickle.load(f)
    paths = [Path(p['img_path']) for p in preds]
    assert sorted(p.parent.name for p in paths) == ['airplane', 'airplane',
                                                     'cat', 'cat']
    scores = _predict(algorithm, paths)
    for pred, score in zip(preds, scores):
        assert int(pred['pred_label']) == int(score.argmax())
        assert torch.allclose(pred['pred_score'], score, atol=1e-6)


def test_student_config_is_the_fitnets_student() -> None:
    student = Config.fromfile(str(STUDENT_CONFIG))
    fitnets = Config.fromfile(str(FITNET_CIFAR10))
    architecture = fitnets.model.architecture.to_dict()
    for key in ('backbone', 'neck', 'head'):
        assert student.model[key].to_dict() == architecture[key], key
    for key in ('mean', 'std', 'to_rgb', 'num_classes'):
        assert student.data_preprocessor[key] == \
            architecture['data_preprocessor'][key], key
    assert 'custom_imports' not in student  # plain MMPretrain
