"""spiDNN: Keras-style neural networks trained and run on SpiNNaker."""
from spiDNN import (
    keras, layers, losses, metrics, optimizers, plot, regularizers)
from spiDNN.errors import (
    SpiDNNConfigurationError, SpiDNNError, SpiDNNMachineError)
from spiDNN.faults import DeadLink, Drop, Faults, Stall
from spiDNN.live_io import LiveIO
from spiDNN.keras.models import from_keras, load_model
from spiDNN.model import Model

#: Keras' name for a stack of layers: ``spiDNN.Sequential([Input(...),
#: Dense(...)])``.
Sequential = Model

__all__ = ["Model", "Sequential", "from_keras", "load_model", "keras",
           "layers", "losses", "optimizers", "metrics", "plot", "regularizers",
           "Faults",
           "LiveIO", "Drop", "Stall", "DeadLink", "SpiDNNError",
           "SpiDNNConfigurationError", "SpiDNNMachineError"]
