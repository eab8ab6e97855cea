"""How the suite records figures: accuracies, one-line errors, values made
JSON-serialisable, and the private (array) entries dropped."""
import numpy


def _accuracy(probabilities, labels):
    return float(numpy.mean(numpy.argmax(probabilities, axis=1) == labels))


def _error_text(error, stage):
    """One line naming the error, and the one it arose while handling: a
    failed run's clean-up can raise over the error that stopped it."""
    text = f"{stage}: {type(error).__name__}: {error}"
    cause = error.__cause__ or error.__context__
    if cause is not None:
        text += f" (while handling {type(cause).__name__}: {cause})"
    return text


def _plain(value):
    """``value`` with numpy scalars made JSON-serialisable."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, numpy.generic):
        return value.item()
    return value


def _drop_private(value):
    """Removes the ``_``-prefixed entries (arrays) from nested figures."""
    if isinstance(value, dict):
        for key in [key for key in value if str(key).startswith("_")]:
            del value[key]
        for item in value.values():
            _drop_private(item)
    elif isinstance(value, list):
        for item in value:
            _drop_private(item)
