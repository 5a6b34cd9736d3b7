"""Bundled real data sets (each with its PROVENANCE.md under ``data/``)."""

from sisso_lite.datasets._octet import OCTET_UNITS, load_octet_binaries
from sisso_lite.datasets.bartel import load_bartel_perovskites
from sisso_lite.datasets.emery import (
    EMERY_TARGETS,
    EMERY_UNITS,
    EmeryData,
    load_emery_perovskites,
)
from sisso_lite.datasets.learning_sets import load_foppa_perovskites, load_oer_plate
from sisso_lite.datasets.magnetic import (
    FREY_RF_TEST_ACCURACY,
    load_frey_magnetic_order,
    load_magndata_labels,
    load_magndata_summary,
    magndata_mcif_path,
)

__all__ = [
    "EMERY_TARGETS",
    "EMERY_UNITS",
    "OCTET_UNITS",
    "EmeryData",
    "FREY_RF_TEST_ACCURACY",
    "load_bartel_perovskites",
    "load_emery_perovskites",
    "load_foppa_perovskites",
    "load_frey_magnetic_order",
    "load_magndata_labels",
    "load_magndata_summary",
    "load_octet_binaries",
    "load_oer_plate",
    "magndata_mcif_path",
]
