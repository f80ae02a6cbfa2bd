"""One error hierarchy for the spatial core; the CLI turns these into one-line messages."""


class GeoError(Exception):
    """Base class of every error geo/ raises on purpose."""


class InvalidInput(GeoError, ValueError):
    """Input data (coordinates, geometry, a file, a CRS name) is wrong; the message says what and where."""


class CRSMismatchError(GeoError, ValueError):
    """Two datasets that must share a CRS do not."""


class BuildError(GeoError):
    """A city cannot be built from its sources as configured (e.g. a grid serial would overflow)."""
