"""spiDNN: Keras-style neural networks trained and run on SpiNNaker."""
from spiDNN import layers, losses, optimizers
from spiDNN.errors import (
    SpiDNNConfigurationError, SpiDNNError, SpiDNNMachineError)
from spiDNN.model import Model

__all__ = ["Model", "layers", "losses", "optimizers", "SpiDNNError",
           "SpiDNNConfigurationError", "SpiDNNMachineError"]
