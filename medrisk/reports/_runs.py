"""Run files (``params/<run>.yaml``): which notebooks a scheduled run executes, with what.

A run file looks like::

    # Monthly management pack, first working day of each month.
    run: monthly-management
    title: {zh: 月度管理报告, en: Monthly management pack}
    notebooks: [00-management-summary, 10-receivables]
    parameters:            # passed to every notebook that declares them
      as_of: "2026-10-31"  # valuation date, YYYY-MM-DD
      data: data/demo      # folder, workbook or database URL
      language: zh
    overrides:             # optional, per notebook
      10-receivables: {top_n: 15}

Everything is checked before anything runs: an unknown or mistyped key, a value
of the wrong type or a bad date is an error naming the file and the key
(papermill alone would only warn about an unknown parameter).
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from medrisk.config import NOTEBOOKS_DIR
from medrisk.exceptions import ParamsError, mask_secrets

__all__ = ["RunSpec", "load_run", "notebook_parameters", "notebook_path", "check_parameters"]

_TOP_KEYS = {"run", "title", "notebooks", "parameters", "overrides", "description",
             "as_of_default"}
#: How a run without an as-of date takes it from the data (see medrisk.data.default_as_of).
AS_OF_DEFAULTS = ("month_end", "last_day")
#: Parameters set by ``medrisk run`` itself, never by a run file.
RUNNER_PARAMETERS = ("figures_file",)
_SECRET_WORDS = ("password", "passwd", "secret", "token", "api_key")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: A run name becomes a folder under --out: a plain name, never a path.
_RUN_NAME = re.compile(r"[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]{0,79}")


@dataclass
class RunSpec:
    """A validated run file."""

    name: str
    path: Path
    notebooks: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    title: dict[str, str] = field(default_factory=dict)
    as_of_default: str = "month_end"

    def parameters_for(self, notebook: str) -> dict[str, Any]:
        """Return the parameters this run passes to ``notebook`` (only those it declares)."""
        declared = notebook_parameters(notebook)
        params = {k: v for k, v in self.parameters.items() if k in declared}
        params.update(self.overrides.get(notebook, {}))
        return params


def notebook_path(name: str) -> Path:
    """Path of notebook ``name`` (with or without ``.ipynb``) in ``notebooks/``."""
    stem = name[:-6] if name.endswith(".ipynb") else name
    return NOTEBOOKS_DIR / f"{stem}.ipynb"


@lru_cache(maxsize=64)
def _inspect(path: str, mtime: float) -> dict[str, dict[str, Any]]:
    import papermill as pm

    return dict(pm.inspect_notebook(path))


def notebook_parameters(name: str) -> dict[str, dict[str, Any]]:
    """Return the parameters a notebook declares: name -> {inferred_type_name, default, help}."""
    path = notebook_path(name)
    if not path.exists():
        known = sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb"))
        raise ParamsError(f"There is no notebook {name!r}; the notebooks are {known}.")
    return _inspect(str(path), path.stat().st_mtime)


def _check_value(where: str, key: str, value: Any, declared: dict[str, Any]) -> None:
    kind = declared.get("inferred_type_name", "None")
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list),
        "dict": isinstance(value, dict),
    }.get(kind, True)
    if not ok:
        raise ParamsError(
            f"{where}: '{key}' must be of type {kind} ({declared.get('help', '').strip()}); "
            f"got {value!r} ({type(value).__name__})."
        )
    if (key == "as_of" or key.endswith("_date") or key in ("start", "end")) and value != "":
        try:
            if not _ISO_DATE.fullmatch(str(value)):  # fromisoformat also takes 2026-W44-6
                raise ValueError(value)
            dt.date.fromisoformat(str(value))
        except ValueError:
            raise ParamsError(
                f"{where}: '{key}' must be a date written YYYY-MM-DD; got {value!r}."
            ) from None
    if isinstance(value, str) and "://" in value and _has_password(value):
        raise ParamsError(
            f"{where}: '{key}' is a URL with a password ({mask_secrets(value)}). Passwords never "
            "go in run files or on the command line: remove it from the URL and name an "
            "environment variable in the mapping file's database section instead "
            "(password_env: MEDRISK_DB_PASSWORD)."
        )
    if any(w in key.lower() for w in _SECRET_WORDS):
        raise ParamsError(
            f"{where}: '{key}' looks like a secret. Secrets never go in parameter files: "
            "name an environment variable instead (for example password_env: MEDRISK_DB_PASSWORD)."
        )


def _has_password(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return parts.password is not None or "password=" in parts.query.lower()
    except ValueError:  # not a URL after all (a port that is no number ...)
        return mask_secrets(url) != url


def check_parameters(where: str, notebooks: list[str], params: dict[str, Any],
                     only: str | None = None) -> None:
    """Check parameter names and values against the notebooks that receive them.

    Parameters
    ----------
    where : str
        File (and section) for messages.
    notebooks : list of str
        Notebooks of the run.
    params : dict
        Parameters to check.
    only : str, default=None
        When the parameters are for one notebook (an override), its name.

    Raises
    ------
    ParamsError
        For a key no notebook declares (with the closest known names), a
        runner-only key, a wrong type or a bad date.
    """
    targets = [only] if only else notebooks
    declared_by = {nb: notebook_parameters(nb) for nb in targets}
    known: dict[str, dict[str, Any]] = {}
    for decl in declared_by.values():
        for k, v in decl.items():
            known.setdefault(k, v)
    for key, value in params.items():
        if key in RUNNER_PARAMETERS:
            raise ParamsError(f"{where}: '{key}' is set by `medrisk run`; remove it from the file.")
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ParamsError(
                f"{where}: unknown parameter '{key}': no notebook of this run "
                f"({', '.join(targets)}) declares it.{hint} Known parameters: {sorted(known)}."
            )
        for decl in declared_by.values():
            if key in decl:
                _check_value(where, key, value, decl[key])


def load_run(path: str | os.PathLike) -> RunSpec:
    """Read and check a run file.

    Parameters
    ----------
    path : str or path
        ``params/<run>.yaml``.

    Returns
    -------
    RunSpec

    Raises
    ------
    ParamsError
        Naming the file and the key for any mistake.
    """
    p = Path(path)
    if not p.exists():
        raise ParamsError(f"Run file {p} does not exist; the run files are in params/.")
    try:
        data = YAML(typ="safe").load(p.read_text(encoding="utf-8")) or {}
    except YAMLError as exc:
        raise ParamsError(f"{p}: not valid YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise ParamsError(f"{p}: expected a mapping with keys {sorted(_TOP_KEYS)}.")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ParamsError(f"{p}: unknown key(s) {sorted(unknown)}; "
                          f"allowed keys are {sorted(_TOP_KEYS)}.")
    notebooks = data.get("notebooks")
    if (not isinstance(notebooks, list) or not notebooks
            or not all(isinstance(n, str) for n in notebooks)):
        raise ParamsError(f"{p}: 'notebooks' must be a non-empty list of notebook names.")
    for nb in notebooks:
        notebook_parameters(nb)  # raises for an unknown notebook
    params = data.get("parameters") or {}
    if not isinstance(params, dict):
        raise ParamsError(f"{p}: 'parameters' must be a mapping of name: value.")
    check_parameters(f"{p}: parameters", notebooks, params)
    overrides = data.get("overrides") or {}
    for nb, values in overrides.items():
        if nb not in notebooks:
            raise ParamsError(f"{p}: overrides.{nb} is not a notebook of this run ({notebooks}).")
        check_parameters(f"{p}: overrides.{nb}", notebooks, values or {}, only=nb)
    title = data.get("title") or {}
    if isinstance(title, str):
        title = {"zh": title, "en": title}
    name = str(data.get("run") or p.stem)
    if not _RUN_NAME.fullmatch(name) or ".." in name:
        raise ParamsError(
            f"{p}: run must be a plain name (letters, digits, '.', '_' or '-', at most 80, "
            f"not a path: it names the report folder); got {name!r}."
        )
    basis = data.get("as_of_default", "month_end")
    if basis not in AS_OF_DEFAULTS:
        raise ParamsError(f"{p}: as_of_default must be one of {list(AS_OF_DEFAULTS)} (the last "
                          f"month end the data covers, or its last day); got {basis!r}.")
    return RunSpec(name=name, path=p, notebooks=list(notebooks),
                   parameters=dict(params),
                   overrides={k: dict(v or {}) for k, v in overrides.items()},
                   title=dict(title), as_of_default=basis)
