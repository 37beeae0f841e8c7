"""The one folder lock (csp_data/warehouse/fileio.py) that builds, ingests and partnership saves use."""

import os
import subprocess
import sys

import pytest

from csp_data.warehouse.fileio import LockBusy, folder_lock

fcntl = pytest.importorskip("fcntl")


class Refused(Exception):
    pass


def _held_elsewhere(folder):
    """A descriptor holding the folder's flock, as another process's would (flock locks belong to
    the open file, so a second open in this process contends like another process)."""
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def test_lock_leaves_no_file_behind_and_creates_the_folder(tmp_path):
    folder = tmp_path / "new"
    with folder_lock(folder):
        assert folder.is_dir()
    with folder_lock(folder, timeout=0):
        pass
    assert list(folder.iterdir()) == []


def test_non_blocking_lock_refuses_with_the_callers_error(tmp_path):
    fd = _held_elsewhere(tmp_path)
    try:
        with pytest.raises(Refused, match="busy"):
            with folder_lock(tmp_path, timeout=0, busy=lambda: Refused("busy")):
                pytest.fail("the block must not run while the folder is locked")
        with pytest.raises(LockBusy):
            with folder_lock(tmp_path, timeout=0.1):
                pytest.fail("the block must not run while the folder is locked")
    finally:
        os.close(fd)
    with folder_lock(tmp_path, timeout=0):  # free again once the holder closes
        pass


def test_an_error_inside_the_block_passes_through_and_releases_the_lock(tmp_path):
    with pytest.raises(LockBusy, match="from the body"):
        with folder_lock(tmp_path, timeout=0, busy=lambda: Refused("not this")):
            raise LockBusy("from the body")
    with folder_lock(tmp_path, timeout=0):
        pass


def test_blocking_lock_waits_for_another_process(tmp_path):
    """A child process holds the lock until told to stop; the blocking lock gets it afterwards."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from csp_data.warehouse.fileio import folder_lock\n"
            f"with folder_lock({str(tmp_path)!r}):\n"
            "    print('held', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "held"  # state, not time: the child has the lock
        with pytest.raises(Refused):
            with folder_lock(tmp_path, timeout=0, busy=lambda: Refused("busy")):
                pass
        child.stdin.write("\n")
        child.stdin.flush()
        with folder_lock(tmp_path):  # blocks until the child lets go
            pass
    finally:
        child.stdin.close()
        assert child.wait(timeout=60) == 0
