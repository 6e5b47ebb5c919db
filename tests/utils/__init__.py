"""Helpers shared by the tests, in one importable package.

``tests/`` is on ``sys.path`` through ``pythonpath`` in ``setup.cfg``
(``[tool:pytest]``), so test files import ``from utils import toy_models``;
no test changes ``sys.path``.

* :mod:`utils.toy_models`: tiny FitNets models, data and runners;
* :mod:`utils.reliability`: a tiny FitNets job run in subprocesses (kills,
  resumes, distributed runs);
* :mod:`utils.tool_checkpoints`: a small FitNets checkpoint and images for
  the tool tests;
* :mod:`utils.benchmarks`: the scripts of ``benchmarks/`` as modules;
* :mod:`utils.configs`: the blocks of ``configs/_base_`` as dicts.
"""
