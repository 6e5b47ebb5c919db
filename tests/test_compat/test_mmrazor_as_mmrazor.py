"""MMRazor as MMRazor: its script, tests and configs without fitnets_mm.

The interpreter-start hook (``fitnets_mm_startup``) is the only part of
fitnets_mm in these interpreters: MMRazor 1.0.0's own ``tools/train.py``
(a verbatim copy in ``tests/data/mmrazor_configs/tools``) trains and resumes,
the check of its two ``test_ema_hook`` tests passes, BYOT's data pipeline
builds and CRD's fails with a message that says what to do.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from test_mmrazor_configs import CONFIGS, image_folder, write_tiny_leaf

REPO_ROOT = Path(__file__).resolve().parents[2]
MMRAZOR_TRAIN = REPO_ROOT / 'tests' / 'data' / 'mmrazor_configs' / 'tools' / \
    'train.py'

__all__ = ['image_folder']  # the fixture, shared with test_mmrazor_configs


def _mmrazor_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (start-up hook on, as installed)
    and check that fitnets_mm itself was never imported."""
    check = "\nimport sys\nassert 'fitnets_mm' not in sys.modules\n"
    env = {k: v for k, v in os.environ.items() if k != 'FITNETS_MM_COMPAT_OFF'}
    env['PYTHONPATH'] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in env.get('PYTHONPATH', '').split(
            os.pathsep) if p])
    return subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code) + check],
        capture_output=True, text=True, timeout=400, cwd=REPO_ROOT, env=env)


def test_ema_hook_checkpoint_loads_with_plain_torch_load(
        tmp_path: Path) -> None:
    """MMRazor's ``test_func_inputs_recorder.py`` / ``test_function_outputs_
    deliver.py`` ``test_ema_hook``: a Runner with ``EMAHook`` in MMRazor's
    scope saves ``epoch_2.pth``, which the test reads with a plain
    ``torch.load`` (weights-only on torch >= 2.6: it refused mmengine's
    ``HistoryBuffer`` unless fitnets_mm was imported first)."""
    proc = _mmrazor_python(f"""
        import torch
        from torch import nn
        from mmengine.model import BaseModel
        from mmengine.optim import OptimWrapper
        from mmengine.runner import Runner
        from mmrazor.models.task_modules import RecorderManager

        class ToyModel(BaseModel):
            def __init__(self):
                super().__init__()
                self.linear = nn.Linear(2, 1)
                self.recorders = RecorderManager(dict(out=dict(
                    type='ModuleOutputs', source='linear')))
                self.recorders.initialize(self)

            def forward(self, inputs, data_sample, mode='tensor'):
                with self.recorders:
                    out = self.linear(torch.stack(inputs))
                if mode == 'loss':
                    return dict(loss=(torch.stack(data_sample) - out).sum())
                return out

        class Data(torch.utils.data.Dataset):
            metainfo = dict()
            def __len__(self):
                return 12
            def __getitem__(self, i):
                return dict(inputs=torch.ones(2), data_sample=torch.ones(1))

        runner = Runner(
            model=ToyModel(), work_dir={str(tmp_path)!r},
            train_dataloader=dict(dataset=Data(), batch_size=3,
                                  num_workers=0, sampler=dict(
                                      type='DefaultSampler', shuffle=True)),
            default_scope='mmrazor',
            optim_wrapper=OptimWrapper(torch.optim.Adam(
                ToyModel().parameters())),
            train_cfg=dict(by_epoch=True, max_epochs=2),
            default_hooks=dict(logger=None),
            custom_hooks=[dict(type='EMAHook')])
        runner.train()
        checkpoint = torch.load({str(tmp_path / 'epoch_2.pth')!r})
        assert checkpoint['ema_state_dict']['steps'] == 8
        print('EMA-OK')
        """)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert 'EMA-OK' in proc.stdout


@pytest.mark.slow  # two trainings (ResNet-34 -> ResNet-18, 2 iterations each)
def test_mmrazor_train_script_resumes(image_folder: Path,
                                      tmp_path: Path) -> None:
    """MMRazor's ``tools/train.py`` on its KD config (``mmcls::`` bases,
    ``cfg_path='mmcls::...'`` models), then ``--resume``."""
    leaf = write_tiny_leaf(CONFIGS['kd'], image_folder, tmp_path)
    work = tmp_path / 'work'
    proc = _mmrazor_python(f"""
        import runpy, sys
        for extra in ([], ['--resume', '--cfg-options',
                           'train_cfg.max_epochs=2']):
            sys.argv = ['train.py', {str(leaf)!r}, '--work-dir',
                        {str(work)!r}] + extra
            runpy.run_path({str(MMRAZOR_TRAIN)!r}, run_name='__main__')
        """)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'Resumed checkpoint from' in log or 'resumed' in log.lower()
    assert 'Epoch(train) [2][2/2]' in log
    assert (work / 'epoch_2.pth').is_file()


def test_byot_pipeline_pack_cls_inputs_is_pack_inputs() -> None:
    """BYOT's base names MMClassification's ``PackClsInputs``; with the
    ``mmcls`` alias it builds MMPretrain's ``PackInputs``, as the other
    mmcls names do (it was ``KeyError: PackClsInputs is not in the
    mmpretrain::transform registry``)."""
    proc = _mmrazor_python("""
        import glob, os.path as osp
        import mmrazor
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmpretrain.registry import TRANSFORMS
        from mmrazor.utils import register_all_modules
        register_all_modules(False)
        path, = glob.glob(osp.join(osp.dirname(mmrazor.__file__), '.mim',
                                   'configs', 'distill', 'mmcls', 'byot',
                                   '*.py'))
        cfg = Config.fromfile(path)
        pipeline = cfg.train_dataloader.dataset.pipeline
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            built = [TRANSFORMS.build(step) for step in pipeline]
        print('RESULT', cfg.default_scope, pipeline[-1].type,
              type(built[-1]).__module__, type(built[-1]).__name__)
        """)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = [line.split()[1:] for line in proc.stdout.splitlines()
              if line.startswith('RESULT')][0]
    assert result == ['mmpretrain', 'PackClsInputs',
                      'mmpretrain.datasets.transforms.formatting',
                      'PackInputs']


@pytest.mark.parametrize('fitnets_mm_first', [False, True])
def test_crd_failure_names_the_component_and_the_fix(
        fitnets_mm_first: bool) -> None:
    code = """
        from mmrazor.datasets.transforms import PackCRDClsInputs
        try:
            PackCRDClsInputs()
        except ImportError as err:
            print('RESULT', type(err).__name__, '|', err)
        """
    if fitnets_mm_first:
        code = 'import fitnets_mm\n' + textwrap.dedent(code)
        proc = subprocess.run([sys.executable, '-c', code],
                              capture_output=True, text=True, timeout=300,
                              cwd=REPO_ROOT)
    else:
        proc = _mmrazor_python(code)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [line for line in proc.stdout.splitlines()
            if line.startswith('RESULT')][0]
    assert line.startswith('RESULT MMClsNotInstalled | ')
    for part in ('PackCRDClsInputs', "CRD's data pipeline", '`mmcls`',
                 'mmpretrain.git@mmcls-1.x', 'replace the transform'):
        assert part in line, line
