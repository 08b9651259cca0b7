"""MNIST from its IDX files: checksummed loading, and a downloader for missing files.

The four gzip-compressed IDX files are looked up in, in order of precedence: the
`directory` argument, `$SNNLIB_DATA/mnist`, and the repository's `data/mnist` (found
relative to this file in an editable install). Missing files are downloaded from the
mirrors in `MIRRORS` (MD5 checked, written atomically). Every load verifies the MD5 of
the uncompressed content against the canonical values. No torch, no torchvision.
"""

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

# file name -> MD5 of the uncompressed IDX content (canonical values, data/mnist/README.md)
FILES = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}
SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
ENV_VAR = "SNNLIB_DATA"
REPOSITORY_DATA = Path(__file__).resolve().parents[2] / "data"


class ChecksumError(ValueError):
    """A data file's content does not have the expected MD5."""


def mnist_directory(directory: str | os.PathLike | None = None) -> Path:
    """Where the MNIST files are (or go): the argument, else $SNNLIB_DATA/mnist, else the
    repository's data/mnist, else ~/.cache/snnlib/mnist (installed without the repository)."""
    if directory is not None:
        return Path(directory)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]) / "mnist"
    if REPOSITORY_DATA.is_dir():
        return REPOSITORY_DATA / "mnist"
    return Path.home() / ".cache" / "snnlib" / "mnist"


def uncompressed_md5(path: str | os.PathLike) -> str:
    """MD5 hex digest of the gunzipped content of a .gz file."""
    digest = hashlib.md5()
    with gzip.open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_idx(content: bytes) -> np.ndarray:
    """Parse IDX bytes: magic (0, 0, type 0x08 = uint8, n_dims), big-endian int32 sizes, data."""
    if len(content) < 4 or content[:2] != b"\0\0" or content[2] != 0x08:
        raise ValueError("not an IDX file of unsigned bytes (bad magic number)")
    n_dims = content[3]
    shape = tuple(int(s) for s in np.frombuffer(content, ">i4", n_dims, offset=4))
    data = np.frombuffer(content, np.uint8, offset=4 + 4 * n_dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"IDX file holds {data.size} values, its header says {shape}")
    return data.reshape(shape)


def download(
    name: str,
    directory: str | os.PathLike,
    md5: str | None = None,
    mirrors: Sequence[str] = MIRRORS,
    timeout: float = 30.0,
) -> Path:
    """Fetch `name` from the first mirror that serves it with the right content.

    The uncompressed content's MD5 must equal `md5` (default: the canonical value in
    FILES); a file that does not match is rejected and the next mirror tried. The file is
    written atomically (temporary file, then rename). Raises OSError naming every mirror
    and what to do when none worked (for example offline).
    """
    expected = md5 or FILES[name]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        fd, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as r:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    f.write(chunk)
            actual = uncompressed_md5(temporary)
            if actual != expected:
                raise ChecksumError(f"MD5 {actual} of the content, expected {expected}")
            os.replace(temporary, target)
            return target
        except (OSError, ValueError, EOFError) as error:  # URLError is an OSError
            failures.append(f"  {url}: {error}")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)
    raise OSError(
        f"could not download {name}:\n" + "\n".join(failures) + "\n"
        f"Without network access, copy the four MNIST .gz files ({', '.join(FILES)}) into "
        f"{directory} (or point ${ENV_VAR} at a folder whose mnist/ holds them)."
    )


def mnist_file(
    name: str, directory: str | os.PathLike | None = None, allow_download: bool = True
) -> Path:
    """Path of a verified MNIST file, downloading it if missing (and allowed)."""
    folder = mnist_directory(directory)
    path = folder / name
    if not path.exists():
        if not allow_download:
            raise FileNotFoundError(f"{path} is missing (downloading was not allowed)")
        return download(name, folder)
    try:
        actual = uncompressed_md5(path)
    except (OSError, EOFError, gzip.BadGzipFile) as error:  # truncated, not gzip, unreadable
        raise ChecksumError(
            f"{path}: cannot be decompressed ({type(error).__name__}: {error}); the file is "
            "truncated or corrupt: delete it to download it again (or copy a good one there)."
        ) from error
    if actual != FILES[name]:
        raise ChecksumError(
            f"{path}: MD5 of the content is {actual}, expected {FILES[name]}; the file is "
            "corrupt or not MNIST: delete it to download it again."
        )
    return path


@lru_cache(maxsize=4)
def _load(split: str, folder: Path, allow_download: bool) -> tuple[np.ndarray, np.ndarray]:
    images_name, labels_name = SPLITS[split]
    arrays = []
    for name in (images_name, labels_name):
        with gzip.open(mnist_file(name, folder, allow_download), "rb") as f:
            arrays.append(read_idx(f.read()))
    images, labels = arrays
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST {split}: {images.shape[0]} images but {labels.shape[0]} labels")
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def load_mnist(
    split: str = "train", directory: str | os.PathLike | None = None, allow_download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images (n, 28, 28) uint8 and labels (n,) uint8 of split "train" (60 000) or
    "test" (10 000), checksums verified. Arrays are read-only and cached per process."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return _load(split, mnist_directory(directory).resolve(), allow_download)
