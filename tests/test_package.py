"""Top-level package: lazy exports and version."""

import importlib.metadata

import pytest

import sisso_lite


@pytest.mark.parametrize("name", ["SissoRegressor", "SissoClassifier", "SissoEnsemble",
                                  "SubgroupDiscovery", "FeatureSpace"])
def test_top_level_exports(name):
    assert getattr(sisso_lite, name).__name__ == name


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute"):
        sisso_lite.NotAThing  # noqa: B018


def test_version_matches_distribution():
    assert sisso_lite.__version__ == importlib.metadata.version("sisso-lite")
