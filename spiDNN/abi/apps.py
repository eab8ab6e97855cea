"""The C apps, one entry each: the one list that the C build
(``c_code/Makefile`` runs this file as a script for its app names), the
calibration (the apps the cost table measures) and the compiler's
registry (which layers each app runs, and its vertex class) derive from.

Standard library only, as the rest of the contract: the C build runs it
before anything is installed.
"""
import dataclasses
import sys


@dataclasses.dataclass(frozen=True)
class App:
    """A C app in ``c_code/<name>/``, run by the vertex class ``vertex``
    (``"module:class"``), for the layer kinds ``layers``."""
    name: str
    vertex: str
    layers: tuple = ()
    #: The cost table measures it (tools/calibration): it runs on the
    #: grid's models on the in-process machine.
    calibrated: bool = True


APPS = (
    App("dense", "spiDNN.compiler.vertices.dense:DenseVertex", ("Dense",)),
    App("conv", "spiDNN.compiler.vertices.conv:ConvVertex",
        ("Conv1D", "Conv2D")),
    App("pool", "spiDNN.compiler.vertices.pool:PoolVertex",
        ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D",
         "AveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
         "GlobalAveragePooling1D", "GlobalAveragePooling2D",
         "ZeroPadding2D", "UpSampling1D", "UpSampling2D", "RepeatVector",
         "Permute")),
    App("merge", "spiDNN.compiler.vertices.merge:MergeVertex",
        ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
         "Concatenate", "Rescaling", "Activation", "ReLU", "LeakyReLU",
         "ELU", "Softmax")),
    App("prelu", "spiDNN.compiler.vertices.prelu:PReLUVertex", ("PReLU",)),
    App("loss", "spiDNN.compiler.vertices.loss:LossVertex"),
    # Only with the data on the board, which runs through live I/O.
    App("feeder", "spiDNN.compiler.vertices.feeder:FeederVertex",
        calibrated=False),
)

BY_NAME = {app.name: app for app in APPS}

#: The apps the cost table measures.
CALIBRATED = tuple(app.name for app in APPS if app.calibrated)

if __name__ == "__main__":
    sys.stdout.write(" ".join(app.name for app in APPS) + "\n")
