"""Writing a file so that a crash or an error never leaves it half-written, and the one lock that
keeps two writers of a folder apart."""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class LockBusy(OSError):
    """The folder is locked by another process (non-blocking lock, or the wait ran out)."""


@contextmanager
def folder_lock(
    folder: Path | str, timeout: float | None = None, busy: Callable[[], Exception] | None = None
) -> Iterator[None]:
    """An exclusive ``flock`` on ``folder`` itself (created if missing), held for the ``with`` block.

    ``timeout=None`` blocks until the lock is free (writers take turns); ``timeout=0`` tries once;
    a positive ``timeout`` retries for that many seconds. When the lock cannot be had, ``busy()``
    is raised (the caller's own error, in its own words), or :class:`LockBusy` without it; an
    error inside the ``with`` block passes through untouched. The lock is on the
    folder's own inode, which is never replaced, so no lock file is created or left behind, and
    closing the descriptor (also when the process dies) releases it. On a system without
    ``fcntl`` (not POSIX) the block runs unlocked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() >= deadline:
                        if busy is not None:
                            raise busy() from exc
                        raise LockBusy(exc.errno, f"{folder} is locked by another process") from exc
                    time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, and ``os.replace`` it over
    ``path`` (atomic on POSIX): a crash leaves the old file or the new one, never a mix, and an
    error leaves no temporary file. The new file keeps the old one's permissions (0644 when new),
    and its modification time is made strictly later than the old one's, so caches keyed on it
    always see the change even on a coarse filesystem clock. The folder is fsynced too, so the
    rename itself survives a power cut."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.stat() if path.exists() else None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, (old.st_mode & 0o777) if old else 0o644)
        ns = max(time.time_ns(), old.st_mtime_ns + 1) if old else time.time_ns()
        os.utime(tmp, ns=(ns, ns))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
