"""Uploaded import files kept between the preview and the confirmation.

The file lies in instance/imports/ (config IMPORT_STAGING_DIR) under a random name; only that name (the token) goes
into the user's session, so the cookie stays small and no one can confirm another
user's upload. Files older than a day are removed on the next upload.
"""
import os
import re
import secrets
import time
from pathlib import Path

MAX_AGE_SECONDS = 24 * 3600
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")


def _folder(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(folder, token, extension):
    if not _TOKEN_RE.match(token or "") or extension not in ("xlsx", "csv"):
        raise KeyError(token)
    return _folder(folder) / f"{token}.{extension}"


def stage(folder, data, extension):
    """Store the upload; returns its token."""
    remove_old(folder)
    token = secrets.token_urlsafe(24)
    path = _path(folder, token, extension)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return token


def load(folder, token, extension):
    """The staged bytes, or None when missing or expired."""
    try:
        path = _path(folder, token, extension)
        if time.time() - path.stat().st_mtime > MAX_AGE_SECONDS:
            path.unlink(missing_ok=True)
            return None
        return path.read_bytes()
    except (KeyError, OSError):
        return None


def discard(folder, token, extension):
    try:
        _path(folder, token, extension).unlink(missing_ok=True)
    except KeyError:
        pass


def remove_old(folder):
    limit = time.time() - MAX_AGE_SECONDS
    for path in _folder(folder).glob("*.*"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            pass
