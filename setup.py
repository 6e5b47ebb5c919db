"""Install fitnets_mm: ``pip install -e ".[tests]"``."""
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

#: Run at interpreter start: installs fitnets_mm_startup's import hook, which
#: makes MMRazor importable on torch 2.x whatever the import order.
STARTUP_PTH = 'fitnets_mm-mmrazor-compat.pth'
HERE = osp.dirname(osp.abspath(__file__))


#: What ``mim`` and ``fitnets_mm::`` config paths look for in
#: ``fitnets_mm/.mim`` (symbolic links in the source tree, as MMPretrain's
#: ``add_mim_extension`` makes them for development installs).
MIM_FILES = ('configs', 'tools', 'model-index.yml', 'zoo')


class BuildPyWithStartupHook(build_py):
    """``build_py`` that adds the ``.pth`` file and ``fitnets_mm/.mim``.

    The ``.pth`` file goes to the wheel's root (site-packages); ``configs``,
    ``tools``, ``model-index.yml`` and the model zoo's files (``zoo``,
    ``fitnets_mm://`` paths) are copied into ``fitnets_mm/.mim``
    (MMPretrain's ``add_mim_extension`` in ``copy`` mode).
    """

    def run(self) -> None:
        super().run()
        self.copy_file(STARTUP_PTH, osp.join(self.build_lib, STARTUP_PTH))
        mim = osp.join(self.build_lib, 'fitnets_mm', '.mim')
        for name in MIM_FILES:
            target = osp.join(mim, name)
            if osp.isdir(name):
                # a reused build folder would keep files removed since
                # (republished zoo weights have new names)
                shutil.rmtree(target, ignore_errors=True)
                self.copy_tree(name, target, preserve_symlinks=False)
            else:
                self.mkpath(mim)
                self.copy_file(name, target)

    def get_outputs(self, include_bytecode: bool = True) -> list:
        return super().get_outputs(include_bytecode) + [
            osp.join(self.build_lib, STARTUP_PTH)
        ]


def _version() -> str:
    scope: dict = {}
    with open(osp.join('fitnets_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


install_requires = [
    # Ranges on purpose: an exact torch pin takes a CPU-only wheel that no
    # torchvision release matches. 2.5 brings torch.serialization.safe_globals,
    # which the weights-only checkpoint loader uses.
    'torch>=2.5',
    'torchvision>=0.20',
    'mmengine>=0.10.4,<0.11',
    'mmcv-lite>=2.0.0,<=2.1.0',  # mmrazor 1.0.0 asserts mmcv <= 2.1.0
    'mmpretrain>=1.2.0,<1.3',
    'mmrazor==1.0.0',
    'joblib',  # imported by mmrazor, not declared by it
    'setuptools<80',  # mmengine 0.10.7 imports pkg_resources
    'numpy',
    'matplotlib',
]

#: ``pip install openmim`` alone takes openxlab 0.1.x (through opendatalab),
#: which pins ``setuptools~=60.2`` and so downgrades setuptools below torch's
#: ``setuptools>=77.0.3``. Resolved together with this bound, pip picks an
#: openxlab without the pin (docs/en/notes/mim.md).
MIM_REQUIRES = ['openmim>=0.3.9', 'setuptools>=77.0.3,<80']


class _WithStartupPth:
    """Wraps setuptools' editable strategy to add the ``.pth`` file too."""

    def __init__(self, strategy: object) -> None:
        self.strategy = strategy

    def __call__(self, wheel: object, files: list, mapping: dict) -> None:
        self.strategy(wheel, files, mapping)
        with open(osp.join(HERE, STARTUP_PTH)) as f:
            wheel.writestr(STARTUP_PTH, f.read())

    def __enter__(self) -> '_WithStartupPth':
        self.strategy.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        return self.strategy.__exit__(*exc)


cmdclass = {'build_py': BuildPyWithStartupHook}
try:
    from setuptools.command.editable_wheel import editable_wheel

    class EditableWheelWithStartupHook(editable_wheel):
        """``pip install -e``: the editable wheel gets the ``.pth`` too."""

        def _select_strategy(self, *args: object, **kwargs: object) -> object:
            return _WithStartupPth(super()._select_strategy(*args, **kwargs))

    cmdclass['editable_wheel'] = EditableWheelWithStartupHook
except ImportError:  # setuptools < 64: `setup.py develop` runs build_py
    pass

setup(
    name='fitnets_mm',
    version=_version(),
    description='FitNets: Hints for Thin Deep Nets, as an OpenMMLab plugin',
    long_description=open('README.md').read() if osp.exists('README.md')
    else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['fitnets_mm', 'fitnets_mm.*']),
    py_modules=['fitnets_mm_startup', 'fitnets_mm_cli'],
    cmdclass=cmdclass,
    install_requires=install_requires,
    extras_require={
        # scipy: MMRazor's OFD (its configs are trained by the compat tests);
        # sphinx, myst-parser: the docs site (docs/en), built by the tests;
        # openmim: tests/test_packaging/test_mim_cli.py runs `mim`.
        'tests': ['pytest>=7', 'pytest-timeout', 'scipy', 'sphinx>=7',
                  'myst-parser>=2'] + MIM_REQUIRES,
        'mim': MIM_REQUIRES,
        # Visualizer backends (docs/en/user_guides/tools.md).
        'tensorboard': ['tensorboard'],
        'wandb': ['wandb'],
        # benchmarks/step_speed.py's peer: torchdistill's stage-wise FitNet
        'benchmark': ['torchdistill>=1.1.5'],
    },
    zip_safe=False,
)
