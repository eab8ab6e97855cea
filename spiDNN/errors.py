"""spiDNN's exceptions: what the user wrote wrong, and what the machine did."""


class SpiDNNError(Exception):
    """Base of every spiDNN error."""


class SpiDNNConfigurationError(SpiDNNError, ValueError):
    """A model, layer or argument the user gave cannot be used."""


class SpiDNNMachineError(SpiDNNError, RuntimeError):
    """The (virtual) machine could not complete a pass."""


class SpiDNNInternalError(SpiDNNError, RuntimeError):
    """spiDNN broke one of its own assumptions: a bug to report."""
