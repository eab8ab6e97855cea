"""What every optimizer states for the cores and the host, its arguments'
checks, and the registry that ``get``, the Keras conversion, the state's
round trip and the calibration go through."""
import numbers

import numpy

from spiDNN.errors import SpiDNNConfigurationError
from spiDNN.abi import layouts
from spiDNN.abi import optimizers as abi

F32_MAX = float(numpy.finfo(numpy.float32).max)

#: Keras' gradient clippings, of which an optimizer takes one at most.
CLIPPINGS = ("clipnorm", "clipvalue", "global_clipnorm")


def checked_learning_rate(value):
    """A constant learning rate, a Keras schedule, or a clear error."""
    if callable(value) and hasattr(value, "get_config"):
        return value            # a keras.optimizers.schedules object
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not value > 0 or not value <= F32_MAX):
        raise SpiDNNConfigurationError(
            f"learning_rate must be a positive number that is finite "
            f"in float32 (the cores' arithmetic), or a Keras schedule, got "
            f"{value!r}")
    return float(value)


def fraction(value, what, low=0.0, high=1.0, closed_high=False,
             open_low=False):
    """``value`` as a float if it lies in the range, or a clear error
    naming ``what``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not ((low < value if open_low else low <= value)
                    and (value <= high if closed_high else value < high))):
        raise SpiDNNConfigurationError(
            f"{what} must be in {'(' if open_low else '['}{low}, {high}"
            f"{']' if closed_high else ')'}, not {value!r}")
    return float(value)


def f32(value):
    return numpy.float32(value)


def one_minus(value):
    """``1 - value`` as Keras computes it when ``value`` is a Python float
    (the subtraction in double, then the tensor maths' cast)."""
    return float(f32(1 - value))


def one_minus_f32(value):
    """``1 - value`` as Keras computes it of a float32 tensor (the cast
    first, then a float32 subtraction)."""
    return float(f32(1) - f32(value))


def powers(base, steps):
    """``base ** t`` in float32 for each step's t (step + 1), as Keras'
    optimizers raise their decays to the local step.  One scalar power
    each: numpy's array loop may round another way."""
    with numpy.errstate(under="ignore"):
        return numpy.array([numpy.power(f32(base), f32(int(step) + 1))
                            for step in steps], dtype=numpy.float32)


class Optimizer:
    """What every optimizer states for the cores and the host.

    :param weight_decay: Keras' decoupled weight decay, ``w - w wd lr``
        before each step (None: none)
    :param clipvalue: Keras' gradient clipping to [-clipvalue, clipvalue]
        (None: none)
    :param clipnorm: Keras' clipping of each weight array's gradient to
        that norm (None: none), reduced across the cores holding the
        array at each batch end (c_code/common/clip_norm.h)
    :param global_clipnorm: Keras' clipping of all the gradients together
        to that norm (None: none), reduced across every training core
    """

    #: Its entry in spiDNN/abi/optimizers.py's table.
    ABI = None
    #: Its name (``ABI.name``, set by ``register``): the C app's id.
    KIND = None
    #: The name ``get`` takes (Keras' string); ``ABI.name`` if None.
    NAME = None
    #: The Keras optimizer computing the same updates:
    #: ``keras.optimizers.<KERAS>``, whose arguments this class takes.
    KERAS = None
    #: Keras' settings taken over besides learning_rate, weight_decay and
    #: clipvalue (this class's arguments of the same names).
    KERAS_SETTINGS = ()
    #: Keras' settings spiDNN computes only at these values (any other is
    #: refused, never ignored).
    KERAS_FIXED = {}
    #: The Keras optimizer variables holding each state array, in
    #: ``ABI.states``' order.
    KERAS_SLOTS = ()
    #: Per ABI variant (cost point update_<variant>): the settings that
    #: the calibration (tools/calibration/grid.py) measures it with.
    CALIBRATION = {}

    def __init__(self, learning_rate, weight_decay=None, clipvalue=None,
                 clipnorm=None, global_clipnorm=None):
        self.learning_rate = checked_learning_rate(learning_rate)
        self.weight_decay = None if weight_decay is None else fraction(
            weight_decay, "weight_decay", 0.0, F32_MAX)
        clippings = {}
        for setting, value in zip(CLIPPINGS,
                                  (clipnorm, clipvalue, global_clipnorm)):
            clippings[setting] = None if value is None else fraction(
                value, setting, 0.0, F32_MAX)
        given = [setting for setting, value in clippings.items()
                 if value is not None]
        if len(given) > 1:
            raise SpiDNNConfigurationError(
                f"{type(self).__name__}: only one of clipnorm, clipvalue "
                f"and global_clipnorm can be set (as in Keras), got "
                + ", ".join(f"{s}={clippings[s]!r}" for s in given))
        self.clipnorm = clippings["clipnorm"]
        self.clipvalue = clippings["clipvalue"]
        self.global_clipnorm = clippings["global_clipnorm"]

    @property
    def norm_mode(self):
        """layouts.NORM_MODES' name of the clipping by a norm: "clip"
        (clipnorm), "global" (global_clipnorm) or "none" (Keras clips
        only where the setting is above 0)."""
        if self.clipnorm:
            return "clip"
        return "global" if self.global_clipnorm else "none"

    def norm_fields(self):
        """The clipping fields of a core's params (layouts.LAYER_PARAMS'
        norm_mode, norm_clip, norm_inverse_clip) for a core that takes
        part in the norm phase: float32 of the setting, and of its
        inverse computed in Python's double, as Keras divides."""
        clip = self.clipnorm or self.global_clipnorm or 0.0
        return {"norm_mode": layouts.NORM_MODES[self.norm_mode],
                "norm_clip": layouts.float_bits(float(f32(clip))),
                "norm_inverse_clip": layouts.float_bits(
                    float(f32(1.0 / clip)) if clip else 0.0)}

    def states(self):
        """The state arrays (of ``ABI.states``) the cores keep with these
        settings, in that order: optimizers/<name>.h's n_states of them."""
        return self.ABI.states

    @property
    def n_states(self):
        """State arrays per weight array on the cores."""
        return len(self.states())

    @property
    def slots(self):
        """The Keras optimizer variables holding ``states()``."""
        return [self.KERAS_SLOTS[self.ABI.states.index(state)]
                for state in self.states()]

    def initial_values(self):
        """What each of ``states()`` starts at, before the first step (0
        but where Keras starts it elsewhere)."""
        return [0.0] * self.n_states

    def initial_state(self, weights):
        """The state to start from, shaped as ``weights`` (Keras' order),
        where Keras' does not start at zeros; None where it does."""
        values = self.initial_values()
        if not any(values):
            return None
        return {"iterations": 0,
                "slots": [[numpy.full(numpy.shape(w), value, numpy.float32)
                           for w in weights] for value in values]}

    def constants(self):
        """The optimizer fields of the cores' params (layouts)."""
        raise NotImplementedError

    def learning_rate_at(self, step):
        """The learning rate of step ``step`` (0 first), float32."""
        if callable(self.learning_rate):
            return f32(numpy.asarray(self.learning_rate(step)))
        return f32(self.learning_rate)

    def learning_rates(self, steps):
        """The learning rates of ``steps``, float32."""
        return numpy.array([self.learning_rate_at(int(step))
                            for step in steps], dtype=numpy.float32)

    def step_values(self, steps):
        """What the update of each of ``steps`` (0 first) takes besides
        the gradients, float32, shaped (steps, len(ABI.step_values)): by
        default the learning rate alone."""
        return self.learning_rates(steps)[:, None]

    def keras_variables(self, iterations):
        """{name: value} of the Keras optimizer's scalar variables beside
        its slots after ``iterations`` steps (Nadam's momentum-cache
        product), which the cores' step values stand for."""
        return {}

    def fields(self, has_state=False):
        """The optimizer's fields of a core's params; ``has_state``: its
        state starts from the OPTIMIZER_STATE region.  Other optimizers'
        constants are 0."""
        constants = self.constants()
        mine = {field for field, _, _ in self.ABI.constants}
        if set(constants) != mine:
            raise AssertionError(
                f"{type(self).__name__}.constants() gives "
                f"{sorted(constants)}, its ABI entry {sorted(mine)}")
        types = abi.constants()
        fields = {"optimizer": layouts.OPTIMIZERS[self.KIND]}
        for field, (kind, _) in types.items():
            value = constants.get(field, 0)
            fields[field] = (layouts.float_bits(float(value))
                             if kind == "float" else int(value))
        fields.update(
            weight_decay=layouts.float_bits(
                float(f32(self.weight_decay or 0.0))),
            clipvalue=layouts.float_bits(float(f32(self.clipvalue or 0.0))),
            has_state=int(has_state))
        return fields

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({settings})"


#: The registered optimizers, one per ABI entry, by ABI name, in the ABI
#: table's order.
_REGISTRY = {}
#: Every registered class by the name ``get`` takes: the ABI entries' and
#: their Keras variants' (AdamW, Adam's with weight decay).
NAMES = {}


def register(cls):
    """Registers an optimizer class (a decorator): checks it against its
    ABI entry, and makes it known to ``get``, the Keras conversion, the
    state's round trip and the calibration.  A subclass of a registered
    class on the same entry is a Keras variant of it (``NAME`` and
    ``KERAS`` its own): known to ``get`` and the conversion, measured as
    its parent."""
    entry = cls.ABI
    if abi.BY_NAME.get(getattr(entry, "name", None)) is not entry:
        raise AssertionError(f"{cls.__name__}.ABI is not an entry of "
                             f"spiDNN/abi/optimizers.py's table")
    if len(cls.KERAS_SLOTS) != len(entry.states):
        raise AssertionError(f"{cls.__name__}: a Keras slot per state "
                             f"array {entry.states}")
    if set(cls.CALIBRATION) != set(entry.variants):
        raise AssertionError(f"{cls.__name__}: calibration settings per "
                             f"variant {entry.variants}")
    cls.KIND = entry.name
    name = cls.NAME or entry.name
    if name in NAMES:
        raise AssertionError(f"{cls.__name__}: {name!r} is "
                             f"{NAMES[name].__name__}'s")
    parent = _REGISTRY.get(entry.name)
    if parent is not None:
        if not issubclass(cls, parent) or cls.NAME in (None, entry.name):
            raise AssertionError(
                f"{cls.__name__}: entry {entry.name!r} is "
                f"{parent.__name__}'s; a variant subclasses it, named")
        NAMES[name] = cls
        return cls
    _REGISTRY[entry.name] = cls
    NAMES[name] = cls
    order = [name for name in abi.BY_NAME if name in _REGISTRY]
    for name in order:
        _REGISTRY[name] = _REGISTRY.pop(name)
    return cls


def registered():
    """The optimizer classes of the ABI entries, in the table's order."""
    return list(_REGISTRY.values())


def calibration_optimizers():
    """{variant: a function making an optimizer that runs it}: every
    cost point update_<variant> of every registered optimizer."""
    return {variant: (lambda cls=cls, settings=settings: cls(**settings))
            for cls in registered()
            for variant, settings in ((v, cls.CALIBRATION[v])
                                      for v in cls.ABI.variants)}


def check_registry():
    """Every ABI entry has its class (called once all are registered)."""
    missing = [name for name in abi.BY_NAME if name not in _REGISTRY]
    assert not missing, f"optimizers in the ABI table with no class: {missing}"
