"""Report kernels: a private socket folder each, and cleaning up never touches anything else."""

from __future__ import annotations

import tempfile
from pathlib import Path

from medrisk.reports._render import _ipc_kernel_manager, _remove_socket_dir


def test_only_a_folder_the_manager_made_is_removed(tmp_path, monkeypatch):
    # the clean-up once removed Path(ip).parent: for a relative ip such as jupyter_client's
    # "kernel-ipc" that is the working directory, the whole checkout
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("x")
    _remove_socket_dir(Path("kernel-ipc").parent)
    _remove_socket_dir(None)
    _remove_socket_dir(tmp_path)
    other = Path(tempfile.mkdtemp(prefix="someone-else-"))
    _remove_socket_dir(other)
    assert (tmp_path / "keep.txt").exists() and other.exists()
    other.rmdir()


def test_the_private_folder_goes_with_its_sockets_and_keeps_anything_else():
    km = _ipc_kernel_manager()(kernel_name="python3")
    folder = Path(km.ip).parent
    assert folder.name.startswith("medrisk-kernel-") and folder.stat().st_mode & 0o077 == 0
    (folder / "ipc-1").write_text("")
    (folder / "ipc-2").write_text("")
    _remove_socket_dir(km._socket_dir)
    assert not folder.exists()
    km2 = _ipc_kernel_manager()(kernel_name="python3")
    folder2 = Path(km2.ip).parent
    (folder2 / "notes.txt").write_text("not a socket")
    _remove_socket_dir(km2._socket_dir)
    assert (folder2 / "notes.txt").exists()  # not ours to delete
    (folder2 / "notes.txt").unlink()
    folder2.rmdir()


def test_the_connection_file_and_its_key_live_in_the_private_folder_and_leave_with_it():
    from medrisk.reports._render import shared_kernel

    with shared_kernel() as km:
        km.start_kernel()
        conn = Path(km.connection_file)
        folder = Path(km.ip).parent
        assert conn.parent == folder and conn.exists() and folder.stat().st_mode & 0o077 == 0
        assert '"key"' in conn.read_text()
        assert km.is_alive()
    assert not km.is_alive() and not conn.exists() and not folder.exists()


def test_a_shared_kernel_forgets_each_notebooks_variables(tmp_path, monkeypatch):
    import nbformat
    from notebook_fixtures import tiny_notebook

    from medrisk.reports import _runs as runs
    from medrisk.reports._render import render, shared_kernel

    tiny_notebook(tmp_path / "01-set.ipynb", "secret = 42")
    tiny_notebook(tmp_path / "02-read.ipynb", "print(secret)")
    monkeypatch.setattr(runs, "NOTEBOOKS_DIR", tmp_path)
    with shared_kernel() as km:
        first = render("01-set", {}, tmp_path / "out", kernel=km)
        second = render("02-read", {}, tmp_path / "out", kernel=km)
    assert first.ok and not second.ok and "NameError" in second.error
    assert second.failed_cell == 3  # counted as in the notebook, without the reset cell
    executed = nbformat.read(second.executed, as_version=4)
    assert executed.cells[-1].source == "print(secret)"
    assert not any("medrisk-reset" in c.metadata.get("tags", []) for c in executed.cells)
