"""Choosing live I/O for a model's runs, and losing messages on its wire
on purpose (spiDNN/vm/live.py carries them on the virtual machine)."""
import numbers

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.layers.arguments import non_negative_int


class LiveIO:
    """How a model's runs use live I/O: ``spiDNN.Model(live_io=...)``.

    :param drop: {kind: message numbers}: messages to lose on the wire,
        numbered from 0 per kind in the order they cross it.  Kinds into
        the machine are the source labels (``"input"``, ``"labels"``,
        ``"control"``); out of it ``"output"``, ``"loss"``, ``"weight"``.
    :param timeout: seconds the host waits for what it expects back (a
        sample's outputs or loss, the weights) before it calls it lost
    :param retries: times a lost sample or weight download is asked for
        again before the run ends with an error naming what was lost
    :param data_on_board: ``fit`` writes the training set into the
        board's SDRAM and a feeder core streams it (the default): only the
        losses and the weights cross the wire.  False streams each sample
        from the host, waiting for its loss.
    """

    KINDS = ("input", "labels", "control", "output", "loss", "weight")

    def __init__(self, drop=None, timeout=5.0, retries=3,
                 data_on_board=True):
        if (isinstance(timeout, bool) or not isinstance(timeout, numbers.Real)
                or not timeout > 0):
            raise SpiDNNConfigurationError(
                f"live_io's timeout is a number of seconds above 0, not "
                f"{timeout!r}")
        self.timeout = float(timeout)
        self.retries = non_negative_int(retries, "live_io's retries")
        if not isinstance(data_on_board, bool):
            raise SpiDNNConfigurationError(
                f"live_io's data_on_board is True or False, not "
                f"{data_on_board!r}")
        self.data_on_board = data_on_board
        self.drop = {}
        if drop is not None and not isinstance(drop, dict):
            raise SpiDNNConfigurationError(
                f"live_io's drop is a dict {{kind: message numbers}}, not "
                f"{drop!r}")
        for kind, which in (drop or {}).items():
            if kind not in self.KINDS:
                raise SpiDNNConfigurationError(
                    f"live_io cannot drop {kind!r} messages; the kinds are "
                    f"{', '.join(self.KINDS)}")
            if isinstance(which, (str, bytes)) or not hasattr(
                    which, "__iter__"):
                raise SpiDNNConfigurationError(
                    f"live_io's drop[{kind!r}] is a list of message "
                    f"numbers, not {which!r}")
            self.drop[kind] = {
                non_negative_int(n, f"live_io's drop[{kind!r}] message")
                for n in which}

    def __repr__(self):
        return (f"LiveIO(drop={self.drop!r}, timeout={self.timeout}, "
                f"retries={self.retries}, "
                f"data_on_board={self.data_on_board})")


def live_io_settings(value):
    """A model's ``live_io`` argument as a :py:class:`LiveIO`, or None."""
    if value is None or value is False:
        return None
    if value is True:
        return LiveIO()
    if isinstance(value, LiveIO):
        return value
    raise SpiDNNConfigurationError(
        f"live_io is True, False or a spiDNN.LiveIO, not {value!r}")
