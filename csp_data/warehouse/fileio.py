"""Writing a file so that a crash or an error never leaves it half-written."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


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
