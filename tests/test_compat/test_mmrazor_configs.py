"""MMRazor's own distillation configs build and train through tools/train.py.

``tests/data/mmrazor_configs`` holds verbatim copies of MMRazor 1.0.0's
FitNets, KD, DKD, OFD and BYOT configs (``mmcls::`` bases, ``mmcls.`` types,
``_scope_='mmcls'``). A leaf config only swaps the data for a few tiny
images, switches off the zoo downloads and shortens the schedule.
"""
import glob
import os.path as osp
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest
from PIL import Image

import fitnets_mm  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
COPIES = REPO_ROOT / 'tests' / 'data' / 'mmrazor_configs' / 'configs'
CONFIGS: Dict[str, Path] = {
    name: next((COPIES / 'distill' / 'mmcls' / name).glob('*.py'))
    for name in ('fitnets', 'kd', 'dkd', 'ofd', 'byot')
}


@pytest.fixture(scope='module')
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four 32x32 RGB images in two class folders (``CustomDataset``)."""
    root = tmp_path_factory.mktemp('images')
    rng = np.random.default_rng(0)
    for label in range(2):
        (root / str(label)).mkdir()
        for i in range(2):
            pixels = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / str(label) / f'{i}.png')
    return root


def write_tiny_leaf(config: Path, images: Path, folder: Path) -> Path:
    """A config inheriting ``config`` that trains 2 iterations on ``images``.

    The zoo downloads (teacher checkpoints, ``pretrained=True`` models) are
    switched off; nothing else of ``config`` changes.
    """
    loader = ("dict(batch_size=2, num_workers=0, persistent_workers=False, "
              "dataset=dict(_delete_=True, type='mmpretrain.CustomDataset', "
              f"data_root={str(images)!r}, pipeline=[dict(type='mmpretrain."
              "LoadImageFromFile'), dict(type='mmpretrain.Resize', scale=32),"
              " dict(type='mmpretrain.PackInputs')]))")
    leaf = folder / f'tiny_{config.name}'
    leaf.write_text(f"""_base_ = [{str(config)!r}]
train_dataloader = {loader}
val_dataloader = {loader}
test_dataloader = {loader}
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1))
_model = _base_.model
for _key in ('architecture', 'teacher'):
    if isinstance(_model.get(_key), dict) and 'cfg_path' in _model[_key]:
        _model[_key]['pretrained'] = False
if 'teacher_ckpt' in _model:
    _model['teacher_ckpt'] = None
model = _model
""")
    return leaf


def _train_in_process(leaf: Path, work_dir: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Run tools/train.py's ``main`` in this process (its own code path)."""
    monkeypatch.setattr(sys, 'argv', [
        'tools/train.py', str(leaf), '--work-dir', str(work_dir)])
    runpy.run_path(str(REPO_ROOT / 'tools' / 'train.py'), run_name='__main__')


def _train_log(work_dir: Path) -> str:
    logs = glob.glob(str(work_dir / '*' / '*.log'))
    assert logs, f'no log in {work_dir}'
    return Path(sorted(logs)[-1]).read_text()


def test_fitnets_config_in_a_fresh_interpreter(image_folder: Path,
                                               tmp_path: Path) -> None:
    leaf = write_tiny_leaf(CONFIGS['fitnets'], image_folder, tmp_path)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(leaf), '--work-dir',
         str(tmp_path / 'work')],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    log = _train_log(tmp_path / 'work')
    assert 'Epoch(train) [1][2/2]' in log
    for key in ('student.loss', 'distill.loss_s4', 'distill.loss_s3',
                'distill.loss_kl'):
        assert key in log
    assert (tmp_path / 'work' / 'epoch_1.pth').is_file()


@pytest.mark.parametrize('name', ['dkd', 'ofd', 'byot'])
def test_mmrazor_config_trains(name: str, image_folder: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = write_tiny_leaf(CONFIGS[name], image_folder, tmp_path)
    _train_in_process(leaf, tmp_path / 'work', monkeypatch)
    log = _train_log(tmp_path / 'work')
    assert 'Epoch(train) [1][2/2]' in log
    assert 'distill.loss' in log
    assert 'Epoch(val) [1][2/2]' in log


@pytest.fixture(scope='module')
def kd_work_dir(image_folder: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MMRazor's KD config (ResNet-34 -> ResNet-18) trained 2 iterations."""
    folder = tmp_path_factory.mktemp('kd')
    leaf = write_tiny_leaf(CONFIGS['kd'], image_folder, folder)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _train_in_process(leaf, folder / 'work', monkeypatch)
    return folder / 'work'


def test_kd_config_trains(kd_work_dir: Path) -> None:
    log = _train_log(kd_work_dir)
    assert 'Epoch(train) [1][2/2]' in log
    assert 'distill.loss_kl' in log


def test_student_export_of_an_mmrazor_checkpoint(kd_work_dir: Path,
                                                 tmp_path: Path,
                                                 run_cli: Any) -> None:
    """Our exporter stands in for MMRazor's convert_kd_ckpt_to_student.py."""
    import torch
    from mmpretrain import get_model

    from fitnets_mm.fileio.safe_checkpoint import safe_load
    student = tmp_path / 'student.pth'
    run_cli(['python', 'tools/model_converters/fitnets_to_student.py',
             str(kd_work_dir / 'epoch_1.pth'), str(student)])
    source = safe_load(str(kd_work_dir / 'epoch_1.pth'))['state_dict']
    model = get_model('resnet18_8xb32_in1k', pretrained=str(student),
                      device='cpu')
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, source[f'architecture.{key}'])


def _installed_mmrazor_configs() -> List[str]:
    import mmrazor
    root = osp.join(osp.dirname(mmrazor.__file__), '.mim', 'configs',
                    'distill', 'mmcls')
    return sorted(p for p in glob.glob(osp.join(root, '*', '*.py')))


def test_all_installed_configs_build_their_model() -> None:
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmrazor.registry import MODELS
    configs = _installed_mmrazor_configs()
    assert len(configs) == 19
    built, failed = [], {}
    for path in configs:
        name = osp.basename(path)
        try:
            model = Config.fromfile(path).model
            for key in ('architecture', 'teacher'):
                if isinstance(model.get(key), dict):
                    model[key].pop('pretrained', None)
            for teacher in model.get('teachers', {}).values():
                teacher.build_cfg.pretrained = False
                teacher.pop('ckpt_path', None)
            model.pop('teacher_ckpt', None)
            model.pop('init_cfg', None)
            with DefaultScope.overwrite_default_scope('mmrazor'):
                MODELS.build(model)
            built.append(name)
        except Exception as err:  # noqa: BLE001  (collected, then checked)
            failed[name] = f'{type(err).__name__}: {err}'
    # DeiT's base config is gone from MMPretrain, and its distillation head
    # derives from an mmcls class: it needs MMClassification 1.x.
    assert list(failed) == ['deit-base_regnety160_pt-16xb64_in1k.py'], failed
    assert 'MMClassification 1.x (`mmcls`)' in next(iter(failed.values()))
    assert len(built) == 18


def test_crd_data_pipeline_names_mmcls() -> None:
    """CRD's ``PackCRDClsInputs`` derives from mmcls's ``PackClsInputs``."""
    import mmrazor
    from mmengine.config import Config

    from mmrazor.registry import TRANSFORMS
    path = osp.join(osp.dirname(mmrazor.__file__), '.mim', 'configs',
                    'distill', 'mmcls', 'crd',
                    'crd_neck_r50_r18_8xb16_cifar10.py')
    pack = Config.fromfile(path).train_pipeline[-1]
    with pytest.raises(ImportError, match='PackCRDClsInputs .CRD.s data '
                       'pipeline.*needs the `mmcls` package'):
        TRANSFORMS.build(pack)


def test_mmcls_is_never_pip_installed(monkeypatch: pytest.MonkeyPatch,
                                      tmp_path: Path) -> None:
    import mmengine.hub.hub as hub
    import mmengine.utils.package_utils as package_utils
    from mmengine.config import Config
    from mmengine.hub import get_model
    calls = []
    monkeypatch.setattr(package_utils, 'call_command', calls.append)
    real_install = hub.install_package

    def install_package(package: str) -> None:
        calls.append(['install_package', package])
        real_install(package)

    monkeypatch.setattr(hub, 'install_package', install_package)
    cfg = Config.fromfile(str(CONFIGS['kd']))
    assert cfg.model.architecture.cfg_path.startswith('mmcls::')
    model = get_model(cfg.model.architecture.cfg_path, pretrained=False)
    assert type(model).__module__.startswith('mmpretrain.')
    # mmengine's hub only ever checked for MMPretrain; nothing ran pip.
    assert calls == [['install_package', 'mmpretrain']]
    assert not any(c[0] != 'install_package' for c in calls)
