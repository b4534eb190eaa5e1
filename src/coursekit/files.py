"""Files on disk: one atomic write for everything coursekit writes, and one download with a time-out.

Results, stored networks, training checkpoints, feature caches, decoded data sets, figures and
notebook twins are all written through :func:`atomic_write`: the content goes to a temporary file
beside the target, which replaces the target only once it is complete. A crash, a full disk or
Ctrl-C leaves the old file (or none), never half of a new one.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without error, move it onto
    ``path`` in one step, else delete it. Missing parent folders are created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:  # a read-only folder: say which file could not be written
        _name_the_target(error, path)
        raise
    os.close(handle)
    tmp = Path(name)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a written file gets the usual permissions
        yield tmp
        os.replace(tmp, path)
    except OSError as error:  # a full disk, ...: the temporary goes, the error names the target
        tmp.unlink(missing_ok=True)
        _name_the_target(error, path, tmp)
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _name_the_target(error: OSError, path: Path, tmp: Path | None = None) -> None:
    """Let a system error (one with an errno) name ``path`` where it names no file, or only the
    hidden temporary, whose name would tell the reader nothing."""
    if error.errno is not None and (error.filename is None or tmp is None or Path(error.filename) == tmp):
        error.filename, error.filename2 = str(path), None


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_write(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | Path, obj: Any, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (the JSON is made before anything is written)."""
    return write_text(path, json.dumps(obj, indent=indent) + "\n")


def torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to ``path`` atomically."""
    import torch

    with atomic_write(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


DOWNLOAD_TIMEOUT = 60.0  # seconds without a byte before a download is given up


def download(url: str, path: str | Path, *, hash_prefix: str | None = None, progress: bool = False,
             timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download ``url`` to ``path`` with torch's downloader (into a temporary file, moved into place only
    when complete and, with ``hash_prefix``, checked), giving up when the connection stalls for
    ``timeout`` seconds, with a :class:`TimeoutError` that names the address, instead of hanging."""
    import socket
    import urllib.error

    import torch

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        torch.hub.download_url_to_file(url, str(path), hash_prefix, progress=progress)
    except (TimeoutError, urllib.error.URLError) as err:
        if isinstance(err, TimeoutError) or isinstance(getattr(err, "reason", None), TimeoutError):
            raise TimeoutError(f"the download of {url} stalled: nothing arrived for {timeout:.0f} s") from err
        raise
    finally:
        socket.setdefaulttimeout(previous)
    return Path(path)

