"""Small bundled data sets."""

from sisso_lite.datasets._octet import OCTET_UNITS, load_octet_binaries

__all__ = ["OCTET_UNITS", "load_octet_binaries"]
