"""spiDNN: Keras-style neural networks trained and run on SpiNNaker."""
from spiDNN import layers
from spiDNN.errors import (
    SpiDNNConfigurationError, SpiDNNError, SpiDNNMachineError)
from spiDNN.model import Model

__all__ = ["Model", "layers", "SpiDNNError", "SpiDNNConfigurationError",
           "SpiDNNMachineError"]
