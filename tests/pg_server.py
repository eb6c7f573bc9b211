"""A throwaway PostgreSQL server for the tests, started on a temporary data folder.

:class:`PostgresServer` runs Debian's ``initdb`` / ``pg_ctl`` (package
``postgresql``, binaries under ``/usr/lib/postgresql/<version>/bin``) on a
fresh data folder in ``/tmp``, listening on a free port of 127.0.0.1 only (no
Unix socket), with ``fsync`` off. PostgreSQL refuses to run as root, so when
the tests run as root (as CI does) the server runs as the unprivileged user
``nobody``, which owns the data folder. :meth:`PostgresServer.stop` stops the
server and deletes the folder.

Roles: ``medrisk`` (superuser, no password: trust) and ``medrisk_pw``, which
must give the password :data:`PASSWORD` (scram-sha-256), for the credential
tests. Database: ``medrisk``.

Set ``MEDRISK_TEST_PG_URL`` (a SQLAlchemy URL of a superuser on an existing
server) to use that server instead of starting one.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: The password of the role ``medrisk_pw`` on the throwaway server.
PASSWORD = "medrisk-test-s3cret"
RUN_AS = "nobody"
INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. The database tests "
    "start a throwaway server themselves and need Debian's PostgreSQL server package: "
    "`apt-get install -y postgresql` (as root; it brings postgresql-<version>, whose binaries "
    "are in /usr/lib/postgresql/<version>/bin). Or set MEDRISK_TEST_PG_URL to a SQLAlchemy URL "
    "of a PostgreSQL superuser on a running server."
)


class PostgresUnavailable(RuntimeError):
    """The throwaway server could not be started (message says what to install or fix)."""


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's newest, else pg_config's, else PATH."""
    def version(path: str) -> list[int]:
        return [int(x) for x in Path(path).parent.name.split(".") if x.isdigit()]

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version)
    for d in reversed(candidates):
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            d = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                    timeout=10).stdout.strip())
            if (d / "initdb").exists() and (d / "pg_ctl").exists():
                return d
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server on a temporary data folder; ``start()``, then ``stop()``.

    Parameters
    ----------
    bindir : path, default=None
        Folder of initdb and pg_ctl; found by :func:`find_bindir` when None.
    """

    def __init__(self, bindir=None):
        self.bindir = bindir
        self.port: int | None = None
        self.root: Path | None = None
        self.external: str | None = None

    # -- helpers ---------------------------------------------------------------
    def _as_user(self, args: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return args
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", RUN_AS, "--", *args]
        return ["su", "-s", "/bin/sh", RUN_AS, "-c", " ".join(f"'{a}'" for a in args)]

    def _run(self, args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self._as_user(args), capture_output=True, text=True,
                              timeout=timeout, cwd=self.root)

    @property
    def data(self) -> Path:
        """The data folder."""
        return self.root / "data"

    def url(self, user: str = "medrisk", password: str | None = None, database: str = "medrisk",
            driver: str = "postgresql+psycopg") -> str:
        """A SQLAlchemy URL of the server."""
        if self.external:
            from sqlalchemy.engine import make_url

            u = make_url(self.external).set(database=database)
            if user != "medrisk":
                u = u.set(username=user, password=password)
            return u.render_as_string(hide_password=False)
        auth = user if password is None else f"{user}:{password}"
        return f"{driver}://{auth}@127.0.0.1:{self.port}/{database}"

    # -- life cycle ------------------------------------------------------------
    def start(self) -> PostgresServer:
        """Initialise a data folder and start the server; raise PostgresUnavailable on failure."""
        env_url = os.environ.get("MEDRISK_TEST_PG_URL")
        if env_url:
            self.external = env_url
            self._setup_roles()
            return self
        self.bindir = Path(self.bindir) if self.bindir else find_bindir()
        if self.bindir is None:
            raise PostgresUnavailable(INSTALL_HINT)
        if os.geteuid() == 0 and not (shutil.which("runuser") or shutil.which("su")):
            raise PostgresUnavailable("Running as root, but neither runuser nor su is available "
                                      f"to start PostgreSQL as the user {RUN_AS}.")
        self.root = Path(tempfile.mkdtemp(prefix="medrisk-pg-"))
        atexit.register(self.stop)
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam(RUN_AS)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o700)
        init = self._run([str(self.bindir / "initdb"), "-D", str(self.data), "-U", "medrisk",
                          "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync"])
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed ({init.returncode}): "
                                      f"{init.stderr.strip() or init.stdout.strip()}")
        hba = self.data / "pg_hba.conf"
        hba.write_text("host all medrisk_pw 127.0.0.1/32 scram-sha-256\n"
                       "host all all 127.0.0.1/32 trust\n")
        last = ""
        for _ in range(3):  # a port taken between choosing and binding: try another
            self.port = _free_port()
            opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                    "-c max_connections=20 -c shared_buffers=64MB")
            res = self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts,
                             "-l", str(self.root / "server.log"), "-w", "-t", "60", "start"],
                            timeout=90)
            if res.returncode == 0:
                break
            last = res.stderr.strip() or res.stdout.strip()
            with contextlib.suppress(OSError):
                last += "\n" + (self.root / "server.log").read_text()[-2000:]
        else:
            self.stop()
            raise PostgresUnavailable(f"PostgreSQL did not start: {last}")
        self._wait()
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="medrisk", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE medrisk")
        self._setup_roles()
        return self

    def _wait(self, seconds: float = 30) -> None:
        import psycopg

        deadline = time.monotonic() + seconds
        while True:
            try:
                psycopg.connect(host="127.0.0.1", port=self.port, user="medrisk",
                                dbname="postgres", connect_timeout=5).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def _setup_roles(self) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url())
        with engine.begin() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = 'medrisk_pw'"))
            if exists.first() is None:
                conn.execute(sa.text("CREATE ROLE medrisk_pw LOGIN SUPERUSER "
                                     f"PASSWORD '{PASSWORD}'"))
        engine.dispose()

    def stop(self) -> None:
        """Stop the server (immediate shutdown: the data is thrown away) and delete its folder."""
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists() and self.bindir is not None:
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                           "-w", "-t", "30", "stop"], timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None
