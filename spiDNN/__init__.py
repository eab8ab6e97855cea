"""spiDNN: Keras-style neural networks trained and run on SpiNNaker."""
from spiDNN import keras, layers, losses, optimizers
from spiDNN.errors import (
    SpiDNNConfigurationError, SpiDNNError, SpiDNNMachineError)
from spiDNN.faults import DeadLink, Drop, Faults, Stall
from spiDNN.keras_models import from_keras, load_model
from spiDNN.model import Model

__all__ = ["Model", "from_keras", "load_model", "keras", "layers", "losses",
           "optimizers", "Faults", "Drop", "Stall", "DeadLink",
           "SpiDNNError", "SpiDNNConfigurationError", "SpiDNNMachineError"]
