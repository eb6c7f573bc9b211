"""environment.yml (conda) and pyproject.toml must declare the same dependencies."""

import re
import tomllib

from ruamel.yaml import YAML

from medrisk.config import PROJ_ROOT

#: conda-forge names that differ from PyPI names.
CONDA_TO_PYPI = {"python-duckdb": "duckdb"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    name = m.group(1).lower().replace("_", "-")
    name = CONDA_TO_PYPI.get(name, name)
    return name, m.group(2).replace(" ", "")


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    return dict(_split(r) for r in reqs)


def _conda() -> dict[str, str]:
    env = YAML(typ="safe").load((PROJ_ROOT / "environment.yml").read_text())
    out = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, spec = _split(dep)
            if name not in ("python", "pip"):
                out[name] = spec
    return out


def test_environment_and_pyproject_declare_the_same_packages_and_versions():
    assert _conda() == _pyproject()


def test_python_floor_agrees():
    data = tomllib.loads((PROJ_ROOT / "pyproject.toml").read_text())
    env = YAML(typ="safe").load((PROJ_ROOT / "environment.yml").read_text())
    pythons = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")
               and not d.startswith("python-")]
    assert pythons == ["python" + data["project"]["requires-python"]]


def test_environment_installs_the_package_itself():
    env = YAML(typ="safe").load((PROJ_ROOT / "environment.yml").read_text())
    pip = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert "-e ." in pip
