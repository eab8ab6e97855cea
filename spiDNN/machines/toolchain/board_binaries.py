"""What a board run needs of spiDNN's binaries: every app's .aplx, and the
log dictionary that decodes their logs.

The .aplx files ship inside the package (built at install where the SDK
is at hand, or by ``make aplx``); the toolchain finds them by the names
the vertices ask for.  Their log messages are numbered by FEC's converter
at build time; the toolchain decodes a board's logs with the dictionary
that ``C_LOGS_DICT`` names, else spinn_utilities' own (which knows none of
spiDNN's messages), so a board session points ``C_LOGS_DICT`` at the one
built with the binaries, unless the user set it.
"""
import os

from spiDNN.abi import apps
from spiDNN.errors import SpiDNNConfigurationError

LOG_DICTIONARY = "logs.sqlite3"


def check_board_binaries(folder):
    """Raises SpiDNNConfigurationError naming what a board run would miss
    in ``folder``: before mapping, not as the toolchain's error at load."""
    missing = [f"{app.name}.aplx" for app in apps.APPS
               if not os.path.isfile(os.path.join(folder, app.name + ".aplx"))]
    if not os.path.isfile(os.path.join(folder, LOG_DICTIONARY)):
        missing.append(LOG_DICTIONARY)
    if missing:
        raise SpiDNNConfigurationError(
            f"the SpiNNaker configuration names a board, but spiDNN's board "
            f"binaries are not built: {', '.join(missing)} missing from "
            f"{folder}.  Build them with `make aplx` in a spiDNN clone (it "
            "needs the SpiNNaker C SDK; README.rst, 'Running on a board'), "
            "or install spiDNN where the SDK is at hand")


def use_log_dictionary(folder, environ=os.environ):
    """Points C_LOGS_DICT at the binaries' log dictionary, unless set."""
    environ.setdefault("C_LOGS_DICT", os.path.join(folder, LOG_DICTIONARY))
