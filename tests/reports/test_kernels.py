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
