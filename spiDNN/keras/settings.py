"""Keras settings spiDNN would otherwise ignore: the one check that the
optimizer, loss and layer conversions share, so that each refuses what it
cannot compute rather than silently training differently."""


def first_unsupported(config, supported, ignore=()):
    """The first (name, value) of a Keras ``get_config()`` that is not in
    ``ignore`` and differs from the value spiDNN computes in ``supported``
    (a setting spiDNN does not know counts as differing), or None."""
    for name, value in config.items():
        if name not in ignore and (
                name not in supported or value != supported[name]):
            return name, value
    return None
