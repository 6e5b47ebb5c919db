"""Which tests are whole trainings or multi-process runs: the ``slow`` tier.

The default ``python -m pytest tests`` is the unit tier (about 5 minutes on
2 cores). The tests named here, like those decorated ``@pytest.mark.slow``,
get the ``slow`` marker at collection (``tests/conftest.py``) and run with
``--run-slow`` (CI's second tier: ``--run-slow -m slow``). A list here,
rather than decorators in the files, keeps the tiers in one place;
``tests/test_packaging/test_tiers.py`` checks that every name exists.

Each entry maps a test file to the names of its slow tests (functions or
classes, parametrisations included), or to ``ALL``.
"""
from typing import Dict, FrozenSet, Union

__all__ = ['ALL', 'SLOW_TESTS', 'is_slow']

#: Every test of the file.
ALL = '*'

SLOW_TESTS: Dict[str, Union[str, FrozenSet[str]]] = {
    # Multi-process: torchrun with 2 gloo ranks, kills, SIGSTOP.
    'tests/test_reliability/test_launcher_death.py': ALL,
    'tests/test_reliability/test_distributed_consistency.py': ALL,
    'tests/test_reliability/test_kill_resume.py': frozenset({
        'test_kill_in_both_stages_resume_is_bitwise_exact',
        'test_kill_during_checkpoint_write_keeps_old_checkpoint',
    }),
    'tests/test_tools/test_dist_train.py': ALL,
    'tests/test_reliability/test_frozen_teacher.py': frozenset({
        'test_teacher_unchanged_two_processes',
    }),
    'tests/test_compat/test_cpu_distributed.py': frozenset({
        'test_unpatched_mmengine_fails_on_cpu',
        'test_patched_gloo_starts_and_wraps_cpu_module',
        'test_patched_nccl_default_falls_back_to_gloo',
    }),
    # Whole trainings, each in a fresh interpreter or twice over.
    'tests/test_e2e/test_mnist_fitnets.py': ALL,
    'tests/test_tools/test_auto_scale_lr.py': ALL,
    'tests/test_packaging/test_mim.py': frozenset({
        'test_mim_tools_train_runs',
    }),
    # Every leaf config trained one epoch per stage (the big ones included).
    'tests/test_configs/test_configs.py': frozenset({'test_config_trains'}),
    'tests/test_tools/test_train_test.py': frozenset({
        'test_train_writes_a_checkpoint',
        'test_test_evaluates_the_checkpoint',
        'test_resume_auto_continues',
        'test_resume_refuses_code_running_checkpoint',
    }),
    'tests/test_compat/test_plain_mmengine_run.py': ALL,
    'tests/test_compat/test_mmrazor_configs.py': frozenset({
        'test_fitnets_config_in_a_fresh_interpreter',
        'test_mmrazor_config_trains',
        'test_kd_config_trains',
        'test_student_export_of_an_mmrazor_checkpoint',
        'test_all_installed_configs_build_their_model',
    }),
    'tests/test_compat/test_weights_only_load.py': frozenset({
        'test_plain_weights_only_load_is_refused_with_the_fix_off',
    }),
    'tests/test_fileio/test_safe_checkpoint.py': frozenset({
        'test_plain_torch_load_reads_runner_checkpoint',
    }),
}


def is_slow(path: str, name: str) -> bool:
    """Whether the test ``name`` of the file ``path`` is in the slow tier.

    Args:
        path (str): The test file, relative to the repository root, with
            ``/`` separators (``tests/test_x/test_y.py``).
        name (str): The test's function or class name, without
            parametrisation.

    Returns:
        bool: True for a test listed in :data:`SLOW_TESTS`.
    """
    names = SLOW_TESTS.get(path)
    return names is not None and (names == ALL or name in names)
