"""The Yin-Yang generator reproduces the canonical splits (check values of the issue)."""

import numpy as np
import pytest

from snnlib.data.yinyang import (
    generate_yinyang,
    load_yinyang,
    yinyang_class,
    yinyang_classes,
)


@pytest.fixture(scope="module")
def splits():
    return {name: load_yinyang(name) for name in ("train", "validation", "test")}


@pytest.mark.parametrize(
    ("split", "counts"),
    [("train", [1681, 1702, 1617]), ("validation", [316, 336, 348]), ("test", [350, 316, 334])],
)
def test_class_counts(splits, split, counts):
    features, labels = splits[split]
    assert features.shape == (sum(counts), 4) and labels.shape == (sum(counts),)
    assert np.bincount(labels, minlength=3).tolist() == counts


def test_first_samples(splits):
    train, validation, test = splits["train"], splits["validation"], splits["test"]
    np.testing.assert_allclose(train[0][0], [0.680308, 0.450499, 0.319692, 0.549501], atol=5e-7)
    assert train[1][0] == 2
    np.testing.assert_allclose(train[0][1, :2], [0.097672, 0.684233], atol=5e-7)
    assert train[1][1] == 1
    np.testing.assert_allclose(validation[0][0, :2], [0.680573, 0.320973], atol=5e-7)
    assert validation[1][0] == 0
    np.testing.assert_allclose(test[0][0, :2], [0.234097, 0.401725], atol=5e-7)
    assert test[1][0] == 2


def test_features_and_geometry(splits):
    for features, labels in splits.values():
        np.testing.assert_array_equal(features[:, 2:], 1 - features[:, :2])
        assert np.all(np.hypot(features[:, 0] - 0.5, features[:, 1] - 0.5) <= 0.5)
        np.testing.assert_array_equal(yinyang_classes(features[:, :2]), labels)
    # the splits differ (different seeds)
    assert not np.allclose(splits["validation"][0], splits["test"][0])


def test_class_geometry():
    assert yinyang_class(0.75, 0.5) == 2 and yinyang_class(0.25, 0.5) == 2  # the dots
    assert yinyang_class(0.5, 0.9) == 1 and yinyang_class(0.5, 0.1) == 0
    assert yinyang_class(0.25, 0.65) == 1  # ring around the left dot: yang
    assert yinyang_class(0.75, 0.35) == 0  # ring around the right dot: yin
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 41), np.linspace(0, 1, 41)), -1).reshape(-1, 2)
    classes = yinyang_classes(grid)
    inside = classes >= 0
    assert [yinyang_class(*p) for p in grid[inside]] == classes[inside].tolist()
    assert classes[np.hypot(grid[:, 0] - 0.5, grid[:, 1] - 0.5) > 0.5].tolist() == [-1] * int(
        np.sum(~inside)
    )
    # the point reflection at the centre swaps yin and yang and keeps the dots
    swapped = np.where(classes == 2, 2, 1 - classes)
    mirrored = yinyang_classes(1 - grid)
    assert np.mean(swapped[inside] != mirrored[inside]) < 0.01  # grid points on borders


def test_reproducible_and_validated():
    a, b = generate_yinyang(20, 7), generate_yinyang(20, 7)
    np.testing.assert_array_equal(a[0], b[0])
    assert generate_yinyang(0, 1)[0].shape == (0, 4)
    with pytest.raises(ValueError, match="split"):
        load_yinyang("training")
    with pytest.raises(ValueError, match="size"):
        generate_yinyang(-1, 0)
