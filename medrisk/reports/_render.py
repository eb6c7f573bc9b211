"""Rendering reports: papermill runs a notebook, nbconvert turns it into self-contained HTML.

:func:`render` is the one entry point for a notebook; :func:`run` executes a
whole run file (``params/<run>.yaml``) into ``reports/<run>/<as_of>/`` with an
``index.html`` linking the reports and showing their headline figures, and a
``manifest.json`` recording parameters, data fingerprint, model version, code
version and timings. A failing notebook does not stop the others; the run
reports it (notebook and cell) and ends non-zero.

The HTML needs no network: plotly.js is inlined once per report, and every
script that would come from a CDN (require.js, MathJax, mermaid) is removed.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import html
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from medrisk.config import PROJ_ROOT, REPORTS_DIR, resolve_path
from medrisk.data import check_as_of, default_as_of, load_scoped
from medrisk.exceptions import ParamsError, mask_secrets
from medrisk.i18n import date_text, t
from medrisk.kernel import VERSION as __version__
from medrisk.kernel import yuan
from medrisk.reports._runs import check_parameters, load_run, notebook_parameters, notebook_path

__all__ = ["render", "run", "NotebookResult", "RunResult", "RunInterrupted", "code_version",
           "to_html"]

#: Cells with this tag are for analysts in JupyterLab, not for the HTML report.
HIDE_TAG = "report-hide"
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\ssrc=[\"']https?://[^>]*>\s*</script>", re.I)


@dataclass
class NotebookResult:
    """How one notebook of a run went."""

    notebook: str
    ok: bool
    seconds: float
    html: str | None = None
    executed: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    failed_cell: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """The outcome of :func:`run`."""

    run: str
    as_of: str
    out_dir: Path
    index: Path
    manifest: Path
    notebooks: list[NotebookResult]

    @property
    def ok(self) -> bool:
        """True when every notebook ran."""
        return all(n.ok for n in self.notebooks)


def code_version() -> str:
    """Return medrisk's version and, in a git checkout, the commit (``+dirty`` if edited)."""
    try:
        sha = subprocess.run(["git", "-C", str(PROJ_ROOT), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(PROJ_ROOT), "status", "--porcelain", "--",
                                "medrisk", "notebooks"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return f"{__version__}+g{sha}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return __version__


def to_html(executed: Path, target: Path, title: str) -> Path:
    """Export an executed notebook to HTML without code and without remote scripts."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    _hide_tracebacks(nb)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, template_name="lab")
    # Cells tagged "report-hide" (notes for analysts in JupyterLab) stay out of the report.
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={HIDE_TAG}), enabled=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = _REMOTE_SCRIPT.sub("", body)
    target.write_text(body, encoding="utf-8")
    return target


def _hide_tracebacks(nb) -> None:
    """Replace each error output by one line for the reader; the executed notebook keeps the rest.

    A traceback shows internal paths and code, which management has no use for
    (and which may name a file or host); the run's ``_executed/`` notebook and
    the index keep the details for whoever fixes it.
    """
    import nbformat

    for cell in nb.cells:
        outputs = cell.get("outputs", [])
        for i, out in enumerate(outputs):
            if out.get("output_type") != "error":
                continue
            what = html.escape(mask_secrets(f"{out.get('ename', '')}: {out.get('evalue', '')}"))
            outputs[i] = nbformat.v4.new_output("display_data", data={"text/html": (
                "<p class='mr-warn' style='color:#a12d1f;font-weight:600'>"
                f"本报告到此中断 · This report stopped here: {what}<br>"
                "<span style='font-weight:400'>详情见运行目录的 _executed/ 笔记本 · "
                "details in the run folder's _executed/ notebook</span></p>")})


def render(notebook: str, parameters: dict[str, Any], out_dir: str | os.PathLike,
           *, progress: bool = False, timeout: int = 1800, kernel=None) -> NotebookResult:
    """Execute ``notebooks/<notebook>.ipynb`` with papermill and write ``<notebook>.html``.

    Parameters
    ----------
    notebook : str
        Notebook name, e.g. ``"10-receivables"``.
    parameters : dict
        Parameters to inject (already checked, see :mod:`medrisk.reports`).
    out_dir : str or path
        Where the HTML goes; the executed notebook and recorded figures go in
        ``_executed/`` and ``_figures/`` below it.
    progress : bool, default=False
        Show papermill's cell progress bar.
    timeout : int, default=1800
        Seconds a cell may take.
    kernel : KernelManager, default=None
        A kernel to run in (see :func:`shared_kernel`): its namespace is
        cleared first, its imports are kept. None starts a kernel for this
        notebook alone.

    Returns
    -------
    NotebookResult
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = Path(out_dir)
    (out / "_executed").mkdir(parents=True, exist_ok=True)
    figures_file = out / "_figures" / f"{notebook}.json"
    figures_file.unlink(missing_ok=True)
    params = dict(parameters)
    params["figures_file"] = str(figures_file)
    executed = out / "_executed" / f"{notebook}.ipynb"
    t0 = time.perf_counter()
    result = NotebookResult(notebook=notebook, ok=True, seconds=0.0, parameters=dict(parameters))
    try:
        source, how = str(notebook_path(notebook)), {"kernel_manager_class": _ipc_kernel_manager()}
        if kernel is not None:
            source, how = _with_reset_cell(notebook_path(notebook)), {"km": kernel}
        pm.execute_notebook(source, str(executed), parameters=params,
                            cwd=str(PROJ_ROOT), kernel_name="python3", progress_bar=progress,
                            execution_timeout=timeout, request_save_on_cell_execute=False, **how)
    except PapermillExecutionError as exc:
        result.ok = False
        result.failed_cell = -1  # found below, once the executed notebook is as the source
        result.error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, timeout ...: go on, the index says what failed
        result.ok = False
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if kernel is not None:
            kernel.close_clients()
    result.seconds = time.perf_counter() - t0
    if kernel is not None and executed.exists():
        _drop_reset_cell(executed)
    if result.failed_cell == -1:
        result.failed_cell = _failed_cell(executed)
    if executed.exists():
        result.executed = str(executed)
        result.html = str(to_html(executed, out / f"{notebook}.html", notebook))
    if figures_file.exists():
        recorded = json.loads(figures_file.read_text(encoding="utf-8"))
        result.figures = recorded.get("figures", {})
        result.meta = recorded.get("meta", {})
        result.skipped = recorded.get("skipped", [])
    return result


#: Tag of the cell that clears a shared kernel's namespace before a notebook (removed after).
RESET_TAG = "medrisk-reset"


def _with_reset_cell(path: Path):
    """Return the notebook with a first cell that clears the variables of the notebook before."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell("%reset -f", metadata={"tags": [RESET_TAG, HIDE_TAG]})
    nb.cells.insert(0, cell)
    return nb


def _drop_reset_cell(executed: Path) -> None:
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if RESET_TAG not in c.get("metadata", {}).get("tags", [])]
    nbformat.write(nb, executed)


@contextlib.contextmanager
def shared_kernel():
    """Yield one kernel for all the notebooks of a run, and shut it down after.

    Starting a kernel and importing medrisk, pandas, scikit-learn and plotly
    takes about 4 s; a run of five notebooks pays it once. Each notebook
    starts with its namespace cleared (``%reset -f``), so nothing one notebook
    defines is seen by the next. A kernel that died is replaced.
    """
    km = _ipc_kernel_manager()(kernel_name="python3")
    try:
        yield km
    finally:
        if km.has_kernel:
            with contextlib.suppress(Exception):
                km.shutdown_kernel(now=True)
        _remove_socket_dir(km._socket_dir)


def _ipc_kernel_manager() -> type:
    """Return a kernel manager class whose kernel listens on local IPC sockets, not TCP ports.

    Report kernels only talk to this process: Unix sockets in the user's
    Jupyter runtime folder keep the traffic (figures, possibly customer data)
    away from other users of the machine, and ipykernel does not warn on every
    notebook that the kernel "is running over TCP without encryption".
    """
    from jupyter_client.manager import KernelManager
    from traitlets import CaselessStrEnum, default

    class IpcKernelManager(KernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        #: The private folder this manager made for its sockets (None until it makes one).
        _socket_dir: Path | None = None
        #: Clients handed out since the last close_clients (one per notebook run in this kernel).
        _clients: list | None = None

        def client(self, **kwargs):
            kc = super().client(**kwargs)
            self._clients = [*(self._clients or []), kc]
            return kc

        def close_clients(self) -> None:
            """Close the channels of the clients the notebooks used (the kernel keeps running)."""
            for kc in self._clients or []:
                with contextlib.suppress(Exception):
                    kc.stop_channels()
            self._clients = []

        def _private_dir(self) -> Path:
            if self._socket_dir is None:
                self._socket_dir = Path(tempfile.mkdtemp(prefix="medrisk-kernel-"))
            return self._socket_dir

        @default("ip")
        def _private_socket_prefix(self) -> str:
            # jupyter_client's default, ``kernel-ipc`` in the working directory, numbers the
            # sockets by a look for a free name: two runs at once picked the same socket
            # ("Invalid Signature"). A private folder per kernel (mode 0700) cannot collide.
            return str(self._private_dir() / "ipc")

        @default("connection_file")
        def _private_connection_file(self) -> str:
            # the connection file holds the key that signs every message: in the same
            # private folder, not in the user's shared Jupyter runtime folder
            return str(self._private_dir() / "kernel.json")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:
                _remove_socket_dir(self._socket_dir)

    return IpcKernelManager


def _remove_socket_dir(folder: Path | None) -> None:
    """Remove a kernel's private socket folder: only one that mkdtemp made, and only if empty.

    Never a folder given by a setting: a relative ``ip`` such as ``kernel-ipc`` has the
    working directory (the checkout) as its parent.
    """
    if folder is None or not folder.name.startswith("medrisk-kernel-"):
        return
    if folder.parent != Path(tempfile.gettempdir()) or not folder.is_dir():
        return
    for entry in folder.iterdir():  # the kernel's own sockets (ipc-<port>) and connection file
        if (entry.name.startswith("ipc-") or entry.name == "kernel.json") and not entry.is_dir():
            entry.unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:  # something else is in it: leave it
        pass


def _failed_cell(executed: Path) -> int | None:
    """1-based position, in the notebook as written, of the cell that raised."""
    import nbformat

    if not executed.exists():
        return None
    nb = nbformat.read(executed, as_version=4)
    added = {"injected-parameters", "papermill-error-cell-tag"}
    cells = [c for c in nb.cells if not added & set(c.get("metadata", {}).get("tags", []))]
    for i, cell in enumerate(cells, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return i
    return None


def run(run_file: str | os.PathLike, *, as_of: str | None = None, data: str | None = None,
        out: str | os.PathLike | None = None, progress: bool = True) -> RunResult:
    """Execute every notebook of a run file and write the report folder.

    Parameters
    ----------
    run_file : str or path
        ``params/<run>.yaml``.
    as_of : str, default=None
        Overrides the file's ``as_of`` (YYYY-MM-DD).
    data : str, default=None
        Overrides the file's data source.
    out : str or path, default=None
        Base folder (default ``reports/``); the run writes ``<out>/<run>/<as_of>/``.
    progress : bool, default=True
        Show a progress bar over the notebooks.

    Returns
    -------
    RunResult
        ``.ok`` is False when any notebook failed.
    """
    spec = load_run(run_file)
    extra = {}
    if as_of is not None:
        extra["as_of"] = as_of
    if data is not None:
        extra["data"] = data
    check_parameters(f"{spec.path}: command-line options", spec.notebooks, extra)
    spec.parameters.update(extra)
    if "data" in spec.parameters:
        spec.parameters["data"] = resolve_path(spec.parameters["data"])
    _check_sources(spec)
    run_as_of = _check_as_of(spec)
    spec.parameters["as_of"] = run_as_of
    out_dir = Path(out or REPORTS_DIR).absolute() / spec.name / run_as_of
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    results: list[NotebookResult] = []
    notebooks = spec.notebooks
    with _run_lock(out_dir, spec), _signals_stop_the_run(), shared_kernel() as kernel:
        work = _work_dir(out_dir)
        try:
            bar = None
            if progress:
                bar = tqdm(notebooks, desc=f"{spec.name} {run_as_of}", unit="report")
            for nb in notebooks:
                if bar is not None:
                    bar.set_postfix_str(nb)
                if kernel.has_kernel and not kernel.is_alive():  # the notebook before killed it
                    kernel.restart_kernel(now=True)
                results.append(render(nb, spec.parameters_for(nb), work, kernel=kernel))
                if bar is not None:
                    bar.update(1)
            if bar is not None:
                bar.close()
            for r in results:  # the paths the reports will have once published
                r.html = r.html and str(out_dir / Path(r.html).relative_to(work))
                r.executed = r.executed and str(out_dir / Path(r.executed).relative_to(work))
            _write_manifest(spec, work, results, started)
            _write_index(spec, work, results)
            _publish(work, out_dir)
        finally:
            _remove_work_dir(work, out_dir)
    return RunResult(spec.name, run_as_of, out_dir, out_dir / "index.html",
                     out_dir / "manifest.json", results)


def _check_sources(spec) -> None:
    """Refuse a run whose data folder, workbook or mapping file is missing, before any notebook.

    A database URL is checked by the notebooks' own load (it needs a connection).
    """
    for nb in spec.notebooks:
        params = spec.parameters_for(nb)
        for key in ("data", "mapping"):
            value = str(params.get(key) or "")
            if value and "://" not in value and not Path(resolve_path(value)).exists():
                raise ParamsError(
                    f"{spec.path}: {key} {value} does not exist (for {nb}). Give a folder of "
                    "table files, an Excel workbook or a database URL; `medrisk demo-data` makes "
                    "a demo company to try.")


def _check_as_of(spec) -> str:
    """Return the run's as-of date: the one given, or the last month end the data covers.

    The data is loaded once here (scoped as the first notebook is), so that an
    as-of date before the first invoice, or data that does not load, stops the
    run before any notebook runs. Notebooks without a ``data`` parameter need
    an as-of date from the run file or ``--as-of``.
    """
    given = str(spec.parameters.get("as_of") or "")
    first = spec.notebooks[0]
    params = spec.parameters_for(first)
    declared = notebook_parameters(first)
    data = params.get("data")
    if data is None and "data" in declared:  # the notebook's own default (the demo company)
        data = resolve_path(ast.literal_eval(declared["data"]["default"]))
    if not data:
        if not given:
            raise ParamsError(f"{spec.path}: 'as_of' is needed (in parameters or as --as-of): "
                              f"{first} reads no data to take it from.")
        return given
    mapping = str(params.get("mapping") or "")
    ledger = load_scoped(str(data), resolve_path(mapping) if mapping else "",
                         region=str(params.get("region") or ""), team=str(params.get("team") or ""),
                         salesperson_id=str(params.get("salesperson_id") or ""))
    as_of = given or default_as_of(ledger, spec.as_of_default)
    try:
        check_as_of(ledger, as_of)
    except ParamsError as exc:
        raise ParamsError(f"{spec.path}: {exc}") from None
    return as_of


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGTERM or Ctrl-C; nothing was published.

    A KeyboardInterrupt, not an Exception, so that nothing on the way swallows it.
    """

    def __init__(self, signal_name: str):
        self.signal_name = signal_name
        super().__init__(signal_name)


@contextlib.contextmanager
def _signals_stop_the_run():
    """Turn SIGTERM into :class:`RunInterrupted` while the run works (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise RunInterrupted(signal.Signals(signum).name)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except KeyboardInterrupt as exc:
        if isinstance(exc, RunInterrupted):
            raise
        raise RunInterrupted("SIGINT") from exc
    finally:
        signal.signal(signal.SIGTERM, before)


def _lock_path(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


@contextlib.contextmanager
def _run_lock(out_dir: Path, spec):
    """Hold ``.<as_of>.lock`` beside the report folder while a run writes it."""
    lock = _lock_path(out_dir)
    me = {"pid": os.getpid(), "run": spec.name, "run_file": str(spec.path),
          "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            try:
                holder = json.loads(lock.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                holder = {}
            if isinstance(holder.get("pid"), int) and not _pid_alive(holder["pid"]):
                lock.unlink(missing_ok=True)  # left by a run that was killed: take it over
                continue
            raise ParamsError(
                f"Another run is writing {out_dir}: {holder.get('run', '?')} "
                f"({holder.get('run_file', '?')}), process {holder.get('pid', '?')}, started "
                f"{holder.get('started', '?')}. Wait for it to finish, or delete {lock} if that "
                "process is gone.") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        break
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)


def _work_dir(out_dir: Path) -> Path:
    """Make a fresh folder beside ``out_dir`` for this run; remove leftovers of killed runs."""
    for old in out_dir.parent.glob(f".{out_dir.name}.partial-*"):
        pid = old.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            _remove_work_dir(old, out_dir)
    work = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    _remove_work_dir(work, out_dir)
    work.mkdir()
    return work


def _remove_work_dir(work: Path, out_dir: Path) -> None:
    """Delete a run's own work folder: only ``.<as_of>.partial-*`` or ``.old-*`` beside out_dir."""
    name_ok = work.name.startswith((f".{out_dir.name}.partial-", f".{out_dir.name}.old-"))
    if name_ok and work.parent == out_dir.parent and work.exists():
        shutil.rmtree(work)


def _publish(work: Path, out_dir: Path) -> None:
    """Put ``work`` in place of ``out_dir`` by renames; the previous folder goes last."""
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    _remove_work_dir(old, out_dir)
    if out_dir.exists():
        out_dir.rename(old)
    try:
        work.rename(out_dir)
    except OSError:
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)  # put the previous reports back
        raise
    _remove_work_dir(old, out_dir)


def _library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("pandas", "numpy", "scikit-learn", "pandera", "plotly", "papermill",
                 "statsmodels", "skops"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def _write_manifest(spec, out_dir: Path, results: list[NotebookResult], started) -> Path:
    fingerprints = sorted({r.meta.get("data_fingerprint") for r in results
                           if r.meta.get("data_fingerprint")})
    models = sorted({r.meta.get("model_version") for r in results if r.meta.get("model_version")})
    manifest = {
        "run": spec.name,
        "run_file": str(spec.path),
        "started_utc": started.isoformat(timespec="seconds"),
        "parameters": spec.parameters,
        "overrides": spec.overrides,
        "data_fingerprint": fingerprints[0] if len(fingerprints) == 1 else fingerprints,
        "data_origin": next((r.meta["data_origin"] for r in results if r.meta.get("data_origin")),
                            None),
        "model_version": models[0] if len(models) == 1 else (models or None),
        "code_version": code_version(),
        "libraries": _library_versions(),
        "ok": all(r.ok for r in results),
        "notebooks": [
            {k: v for k, v in asdict(r).items() if k not in ("executed",)}
            | {"html": Path(r.html).name if r.html else None}
            for r in results
        ],
    }
    path = out_dir / "manifest.json"
    path.write_text(mask_secrets(json.dumps(manifest, ensure_ascii=False, indent=1, default=str)),
                    encoding="utf-8")
    return path


def _figure_text(fig: dict[str, Any]) -> str:
    v, unit = fig.get("value"), fig.get("unit", "")
    if v is None:
        return "—"
    if unit == "fen":
        return yuan(v)
    if unit == "share":
        return f"{100 * v:.1f}%"
    if unit == "days":
        return f"{v:,.1f}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return html.escape(str(v))


def _skipped_html(skipped: list[dict[str, Any]], lang: str) -> str:
    """Return the run index's list of sections a report left out, each with what it needs."""
    if not skipped:
        return ""
    zh = lang == "zh"
    items = []
    for s in skipped:
        label = html.escape(s.get("label_" + lang) or s["key"])
        if s.get("needs"):
            why = ("：需要 " if zh else ": needs ") + ("、" if zh else "; ").join(s["needs"])
        else:  # too little history, with the reason
            why = ("：" if zh else ": ") + (s.get("reason_" + lang) or "")
        items.append(f"<li>{label}{html.escape(why)}</li>")
    return f"<div class='skip'><b>{t('skipped', lang)}</b><ul>{''.join(items)}</ul></div>"


def _write_index(spec, out_dir: Path, results: list[NotebookResult]) -> Path:
    lang = spec.parameters.get("language", "zh")
    lang = lang if lang in ("zh", "en") else "zh"
    title = spec.title.get(lang) or spec.name
    rows = []
    for r in results:
        name = html.escape(t(f"title.{r.notebook}", lang))
        link = f"<a href='{html.escape(Path(r.html).name)}'>{name}</a>" if r.html else name
        if r.ok:
            status = f"<span class='ok'>{t('ok', lang)}</span>"
        else:
            cell = f" (cell {r.failed_cell})" if r.failed_cell is not None else ""
            status = (f"<span class='bad'>{t('failed', lang)}{cell}: "
                      f"{html.escape(r.error or '')}</span>")
        figs = "".join(
            f"<div class='fig'><div class='k'>{html.escape(f.get('label_' + lang) or k)}</div>"
            f"<div class='v'>{_figure_text(f)}</div></div>"
            for k, f in list(r.figures.items())[:6]
        )
        skipped = _skipped_html(r.skipped, lang)
        rows.append(f"<tr><td>{link}<div class='figs'>{figs}</div>{skipped}</td><td>{status}</td>"
                    f"<td class='num'>{r.seconds:,.1f}</td></tr>")
    as_of = spec.parameters.get("as_of", "")
    ends = next((r.meta["data_ends"] for r in results if r.meta.get("data_ends")), None)
    stale = ""
    if ends:
        text = t("data_ends", lang, date=date_text(ends, lang), as_of=date_text(as_of, lang))
        stale = f"<div class='stale'>{html.escape(text)}</div>"
    page = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{html.escape(title)} — {html.escape(str(as_of))}</title>
<style>
body{{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',Arial,sans-serif;\
margin:32px;color:#222}}
h1{{color:#1f3b57;border-bottom:3px solid #1f5f8b;padding-bottom:8px}}
.meta{{color:#555;margin-bottom:18px}} table{{border-collapse:collapse;width:100%}}
th{{background:#1f5f8b;color:#fff;text-align:left;padding:8px}} \
td{{border-bottom:1px solid #dde3ea;padding:10px;vertical-align:top}}
a{{font-size:18px;color:#1f5f8b;font-weight:600}} \
.figs{{display:flex;flex-wrap:wrap;gap:10px;margin-top:8px}}
.fig{{border:1px solid #d6dee6;border-radius:6px;padding:6px 10px;min-width:150px}}
.fig .k{{font-size:12px;color:#666}} .fig .v{{font-size:18px;font-weight:600;color:#1f3b57}}
.skip{{margin-top:8px;font-size:13px;color:#5a4300;background:#fff8e1;padding:4px 10px}}
.skip ul{{margin:2px 0 2px 18px;padding:0}}
.stale{{background:#fdecea;border-left:4px solid #a12d1f;color:#a12d1f;padding:8px 12px;\
margin-bottom:14px;font-weight:600}}
.ok{{color:#2e7d4f;font-weight:600}} .bad{{color:#a12d1f;font-weight:600}} .num{{text-align:right}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="meta">{t('as_of', lang)}: {date_text(as_of, lang) if as_of else ''} &nbsp;·&nbsp;
{t('unit.yuan', lang)} &nbsp;·&nbsp; {html.escape(code_version())}</div>
{stale}<table><tr><th>{t('report', lang)} / {t('headline', lang)}</th><th>{t('status', lang)}</th>
<th>{t('seconds', lang)}</th></tr>
{''.join(rows)}
</table></body></html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
