"""benchmarks/zoo_from_study.py: model names, and (slow) a study run
published end to end: file, log, metafile entry, docs table, and the
accuracy checked by tools/test.py through the ``fitnets_mm://`` path."""
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from utils.benchmarks import load_benchmark
from utils.doc_blocks import commands, doc_block

load_benchmark('mnist_evidence')  # imported by name by the study
study = load_benchmark('convergence_study')
zoo = load_benchmark('zoo_from_study')
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_SPLIT = REPO_ROOT.parent / 'shared' / 'data' / 'make_mnist_split.py'


@pytest.mark.parametrize('dataset,regime,name', [
    ('mnist', 'teacher', 'maxout-teacher_1xb128_mnist'),
    ('mnist', 'FitNets', 'maxout-student-paper_fitnets_1xb128_mnist'),
    ('fashion', 'FSP', 'maxout-student-paper_fsp_1xb128_fashion-mnist'),
    ('fashion', 'backprop',
     'maxout-student-paper_backprop_1xb128_fashion-mnist')])
def test_model_names(dataset: str, regime: str, name: str) -> None:
    assert zoo.model_name(dict(dataset=dataset, regime=regime)) == name


def test_the_documented_study_trains_the_zoos_runs() -> None:
    """model_zoo.md's two commands: the study command trains every run
    that zoo_from_study publishes by default (and is its --command)."""
    train, publish = [shlex.split(c) for c in commands(doc_block('zoo-make'))]
    assert train[:2] == ['python', 'benchmarks/convergence_study.py']
    assert ' '.join(train) == zoo.parse_args([]).command
    teachers, jobs = study.make_jobs(study.parse_args(train[2:]))
    names = {j['name'] for j in teachers + jobs}
    assert set(zoo.DEFAULT_RUNS) <= names
    assert len(jobs) == 5 * 4 + 4  # Table 4: 5 seeds x 4; Fashion: 4
    assert publish[:2] == ['python', 'benchmarks/zoo_from_study.py']
    args = zoo.parse_args(publish[2:])
    assert args.study == 'work_dirs/convergence_study'
    assert study.parse_args([]).out.endswith(args.study)


def test_the_docs_table_is_the_metafiles() -> None:
    models = yaml.safe_load(Path(zoo.METAFILE).read_text())['Models']
    assert zoo.zoo_table(models) in Path(zoo.DOC).read_text()


@pytest.mark.slow
def test_publishes_a_study_run(tmp_path: Path) -> None:
    """The shipped MNIST teacher, set up as a run of a study, is published
    again into a new zoo: same weights, its log, metafile and table."""
    if not SHARED_SPLIT.is_file():
        pytest.skip('the MNIST split needs ../shared')
    data = tmp_path / 'mnist'
    subprocess.run([sys.executable, str(SHARED_SPLIT), str(data)],
                   check=True, capture_output=True, timeout=300)
    shipped = yaml.safe_load(Path(zoo.METAFILE).read_text())['Models'][0]
    assert shipped['Name'] == 'maxout-teacher_1xb128_mnist'
    from fitnets_mm.fileio.zoo_weights import zoo_path
    study = tmp_path / 'study'
    work = study / 'mnist_teacher'
    (work / '20261202_000000' / 'vis_data').mkdir(parents=True)
    shutil.copy(zoo_path(shipped['Weights']), work / 'epoch_23.pth')
    (work / 'last_checkpoint').write_text(str(work / 'epoch_23.pth'))
    shutil.copy(REPO_ROOT / shipped['Metadata']['Training Log'],
                work / '20261202_000000' / 'vis_data' / 'scalars.json')
    (study / 'leaves').mkdir()
    (study / 'leaves' / 'mnist_teacher.py').write_text(
        f"_base_ = ['{REPO_ROOT / shipped['Config']}']\n")
    top1 = shipped['Results'][0]['Metrics']['Top 1 Accuracy']
    (study / 'runs').mkdir()
    (study / 'runs' / 'mnist_teacher.json').write_text(json.dumps(dict(
        name='mnist_teacher', dataset='mnist', regime='teacher', seed=0,
        epochs=23, hint_epochs=0, accuracy=top1)))
    doc = tmp_path / 'zoo.md'
    doc.write_text(f'x\n{zoo.TABLE_BEGIN}\nold\n{zoo.TABLE_END}\ny\n')
    models = zoo.main([
        '--study', str(study), '--runs', 'mnist_teacher,table4_KD_s0',
        '--mnist-data', str(data), '--date', '20261202', '--zoo',
        str(tmp_path / 'zoo'), '--metafile', str(tmp_path / 'meta.yml'),
        '--doc', str(doc)])
    [model] = models
    # Publishing a published file changes nothing: same name, same hash.
    assert model['Weights'] == shipped['Weights']
    assert model['Results'] == shipped['Results']
    assert model['Metadata']['Training Config'] == shipped['Config']
    assert (tmp_path / 'zoo' / 'mnist' / (
        shipped['Weights'].split('/')[-1][:-4] + '.log.json')).is_file()
    assert yaml.safe_load((tmp_path / 'meta.yml').read_text())[
        'Models'] == models
    text = doc.read_text()
    assert 'old' not in text and zoo.zoo_table(models) in text
