"""Downloads: resumable, MD5-checked, never over a good file."""

from __future__ import annotations

import os
from pathlib import Path


def download(url: str, dest: str | os.PathLike, *, md5: str | None = None, progress: bool = True,
             chunk: int = 1 << 16, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, resuming a partial ``dest + '.part'``, checking ``md5``.

    The file appears at ``dest`` only when complete and verified; an existing ``dest`` is never overwritten
    (a verified one is returned as it is).

    Raises:
        ValueError: the download failed or the MD5 differs (the partial file is removed then).
    """
    import hashlib
    import urllib.error
    import urllib.request

    from tqdm import tqdm

    dest = Path(dest)

    def digest(p: Path) -> str:
        h = hashlib.md5()
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    if dest.exists():
        if md5 is None or digest(dest) == md5:
            return dest
        raise ValueError(f"{dest} exists but its MD5 differs from {md5}; move it away to download again")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            if have and resp.status != 206:
                have = 0  # the server ignored the range: start again
            total = resp.headers.get("Content-Length")
            total = int(total) + have if total is not None else None
            with open(part, "ab" if have else "wb") as fh, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                                                desc=dest.name, disable=not progress) as bar:
                while block := resp.read(chunk):
                    fh.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the partial file is already complete
            pass
        else:
            raise ValueError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise ValueError(f"download of {url} failed ({exc}); run the command again to resume") from None
    if md5 is not None and digest(part) != md5:
        part.unlink(missing_ok=True)
        raise ValueError(f"download of {url} is corrupt (MD5 differs from {md5}); the partial file was removed")
    os.replace(part, dest)
    return dest
