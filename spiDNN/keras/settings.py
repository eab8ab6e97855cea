"""Keras settings spiDNN would otherwise ignore: the one check that the
optimizer, loss and layer conversions share, so that each refuses what it
cannot compute rather than silently training differently."""


def unsupported(config, supported, ignore=()):
    """Each (name, value) of a Keras ``get_config()`` that is not in
    ``ignore`` and differs from the value spiDNN computes in ``supported``
    (a setting spiDNN does not know counts as differing)."""
    return [(name, value) for name, value in config.items()
            if name not in ignore and (
                name not in supported or value != supported[name])]


def first_unsupported(config, supported, ignore=()):
    """The first of :py:func:`unsupported`, or None."""
    found = unsupported(config, supported, ignore)
    return found[0] if found else None


def shown(value):
    """A setting's value as the user wrote it: a serialised Keras object
    as its class and arguments (``L2(l2=0.01)``), not its config dict."""
    if isinstance(value, dict) and "class_name" in value:
        arguments = value.get("config") or {}
        if not isinstance(arguments, dict):
            arguments = {}
        inner = ", ".join(f"{k}={shown(v)}" for k, v in arguments.items()
                          if k != "name")
        return f"{value['class_name']}({inner})"
    if value is None or isinstance(value, (bool, int, float, str, tuple,
                                           list)):
        return repr(value)
    return type(value).__name__
