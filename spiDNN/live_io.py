"""Choosing live I/O for a model's runs, and losing messages on its wire
on purpose (spiDNN/vm/live.py carries them on the virtual machine)."""
from spiDNN.errors import SpiDNNConfigurationError


class LiveIO:
    """How a model's runs use live I/O: ``spiDNN.Model(live_io=...)``.

    :param drop: {kind: message numbers}: messages to lose on the wire,
        numbered from 0 per kind in the order they cross it.  Kinds into
        the machine are the source labels (``"input"``, ``"labels"``,
        ``"control"``); out of it ``"output"``, ``"loss"``, ``"weight"``.
    """

    KINDS = ("input", "labels", "control", "output", "loss", "weight")

    def __init__(self, drop=None):
        self.drop = {}
        for kind, numbers in (drop or {}).items():
            if kind not in self.KINDS:
                raise SpiDNNConfigurationError(
                    f"live_io cannot drop {kind!r} messages; the kinds are "
                    f"{', '.join(self.KINDS)}")
            self.drop[kind] = {int(n) for n in numbers}

    def __repr__(self):
        return f"LiveIO(drop={self.drop!r})" if self.drop else "LiveIO()"


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
