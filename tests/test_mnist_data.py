"""MNIST files: checksummed loading, data location, and the downloader (local HTTP server)."""

import gzip
import hashlib
import http.server
import shutil
import socket
import struct
import threading
from functools import partial

import numpy as np
import pytest

from snnlib.data import mnist
from snnlib.data.mnist import ChecksumError, download, load_mnist, read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_shipped_files_load_with_their_known_contents():
    images, labels = load_mnist("train")
    assert images.shape == (60_000, 28, 28) and images.dtype == np.uint8
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    test_images, test_labels = load_mnist("test")
    assert test_images.shape == (10_000, 28, 28)
    assert np.bincount(test_labels).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    assert not images.flags.writeable  # the cached arrays cannot be changed by accident
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")


def test_location_argument_and_environment_variable(tmp_path, monkeypatch):
    shipped = mnist.mnist_directory()
    assert shipped == mnist.REPOSITORY_DATA / "mnist" and shipped.is_dir()
    (tmp_path / "mnist").mkdir()
    for name in mnist.SPLITS["test"]:
        (tmp_path / "mnist" / name).symlink_to(shipped / name)
    monkeypatch.setenv("SNNLIB_DATA", str(tmp_path))
    assert mnist.mnist_directory() == tmp_path / "mnist"
    images, labels = load_mnist("test", allow_download=False)
    assert images.shape == (10_000, 28, 28)
    assert mnist.mnist_directory(tmp_path / "elsewhere") == tmp_path / "elsewhere"
    with pytest.raises(FileNotFoundError, match="downloading was not allowed"):
        load_mnist("train", allow_download=False)  # not linked into tmp_path


def test_a_corrupted_file_is_rejected_on_load(tmp_path):
    name = "t10k-labels-idx1-ubyte.gz"
    with gzip.open(mnist.mnist_directory() / name) as f:
        content = bytearray(f.read())
    content[100] = (content[100] + 1) % 10  # one wrong label
    with gzip.open(tmp_path / name, "wb") as f:
        f.write(bytes(content))
    shutil.copy(mnist.mnist_directory() / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(ChecksumError, match="MD5 of the content"):
        load_mnist("test", directory=tmp_path)


def test_read_idx_parses_and_validates():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(read_idx(idx_bytes(array)), array)
    with pytest.raises(ValueError, match="magic"):
        read_idx(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="header says"):
        read_idx(idx_bytes(array)[:-1])


@pytest.fixture
def server(tmp_path):
    """A local HTTP server on 127.0.0.1 serving tmp_path/served; yields its URL."""
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", served
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_downloader_verifies_and_writes_atomically(tmp_path, server):
    url, served = server
    content = idx_bytes(np.arange(50, dtype=np.uint8))
    md5 = hashlib.md5(content).hexdigest()
    (served / "good").mkdir()
    (served / "bad").mkdir()
    with gzip.open(served / "good" / "small.gz", "wb") as f:
        f.write(content)
    with gzip.open(served / "bad" / "small.gz", "wb") as f:
        f.write(content[:-1] + b"\xff")  # corrupted
    target = tmp_path / "data"

    with pytest.raises(OSError, match="could not download small.gz") as error:
        download("small.gz", target, md5=md5, mirrors=[url + "bad/", url + "missing/"])
    assert f"expected {md5}" in str(error.value) and "404" in str(error.value)
    assert list(target.iterdir()) == []  # nothing half-written left behind

    path = download("small.gz", target, md5=md5, mirrors=[url + "bad/", url + "good/"])
    assert path == target / "small.gz" and mnist.uncompressed_md5(path) == md5
    assert sorted(p.name for p in target.iterdir()) == ["small.gz"]


def test_downloader_fails_clearly_offline(tmp_path):
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OSError, match="Without network access, copy the four MNIST") as error:
        download(
            "train-labels-idx1-ubyte.gz", tmp_path, mirrors=[f"http://127.0.0.1:{port}/"], timeout=5
        )
    assert "SNNLIB_DATA" in str(error.value) and str(tmp_path) in str(error.value)
