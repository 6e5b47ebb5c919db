"""Install fitnets_mm: ``pip install -e ".[tests]"``."""
import os.path as osp

from setuptools import find_packages, setup


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
    install_requires=install_requires,
    extras_require={
        'tests': ['pytest>=7', 'pytest-timeout'],
        # benchmarks/step_speed.py's peer: torchdistill's stage-wise FitNet
        'benchmark': ['torchdistill>=1.1.5'],
    },
    zip_safe=False,
)
