"""One model of the suite on both sides: Keras on the CPU (and on a GPU
where there is one) and spiDNN on the machine, from the same initial
weights, and how the two compare."""
import functools

import numpy

from .boosting import BOOSTING, member_seed, run_boosted
from .keras_side import keras_model, run_keras
from .models import support
from .records import _drop_private, _error_text
from .spidnn_side import run_spidnn


def run_model(spec, data, epochs, gpus):
    """Everything the suite records about one model."""
    supported, missing, reason = support(spec)
    entry = {
        "name": spec.name,
        "description": spec.description,
        "input_shape": list(spec.input_shape),
        "layers": [{"kind": layer.kind, **layer.kwargs}
                   for layer in spec.layers],
        "ensemble_members": spec.members,
        "needs_layers": spec.layer_kinds,
        "supported": supported,
        "missing_layers": missing,
    }
    if not supported:
        entry.update({
            "status": "not supported",
            "reason": reason,
            "keras_run": False,
            "keras_skipped_because": "spiDNN cannot run this model, so "
                                     "there is no comparison to make"})
        return entry
    entry["keras_run"] = True
    if spec.members > 1:
        entry["boosting"] = BOOSTING
        weights = [keras_model(spec, member_seed(index)).get_weights()
                   for index in range(spec.members)]

        def run_side(train_member):
            return run_boosted(spec, train_member, weights, data, epochs)
    else:
        weights = keras_model(spec).get_weights()

        def run_side(train_member):
            return train_member(spec, weights, data, epochs)

    print(f"[{spec.name}] Keras on CPU ...", flush=True)
    keras_cpu = run_side(functools.partial(run_keras, device="/CPU:0"))
    keras_gpu = None
    if gpus:
        print(f"[{spec.name}] Keras on GPU ...", flush=True)
        try:
            keras_gpu = run_side(functools.partial(run_keras,
                                                   device="/GPU:0"))
        except Exception as error:   # a GPU run is a bonus, not the point
            keras_gpu = {"error": _error_text(error, "Keras on GPU")}
    print(f"[{spec.name}] spiDNN on the machine ...", flush=True)
    spidnn = run_side(run_spidnn)

    entry["status"] = "error" if ("error" in spidnn
                                  or "predict_error" in spidnn) else "ok"
    entry["spidnn"] = spidnn
    entry["keras_cpu"] = keras_cpu
    entry["keras_gpu"] = keras_gpu if gpus else "no GPU present"
    entry["comparison"] = compare(spidnn, keras_cpu)
    if keras_gpu and "error" not in keras_gpu:
        entry["comparison_gpu"] = compare(spidnn, keras_gpu)
    for side_figures in (spidnn, keras_cpu, keras_gpu or {}):
        _drop_private(side_figures)   # arrays: not for the JSON
    return entry


def compare(spidnn, keras):
    """spiDNN / Keras throughput ratios and how far the two agree (for an
    ensemble: its summed outputs, and member by member)."""
    def ratio(key):
        ours, theirs = spidnn.get(key), keras.get(key)
        return ours / theirs if ours and theirs else None

    comparison = {
        "train_ratio": ratio("train_samples_per_second"),
        "train_ratio_whole_fit": ratio("train_samples_per_second_whole_fit"),
        "predict_ratio": ratio("predict_samples_per_second"),
    }
    if (spidnn.get("trained") and spidnn.get("_probabilities") is not None
            and keras.get("_probabilities") is not None):
        comparison["max_abs_output_difference"] = float(numpy.max(numpy.abs(
            spidnn["_probabilities"].astype(numpy.float64)
            - keras["_probabilities"])))
    if spidnn.get("_weights") is not None and keras.get("_weights"):
        comparison["max_abs_trained_weight_difference"] = _weight_difference(
            spidnn["_weights"], keras["_weights"])
    if "members" in spidnn and "members" in keras:
        comparison["members"] = [
            _compare_members(ours, theirs) for ours, theirs in zip(
                spidnn["members"], keras["members"])]
    return comparison


def _compare_members(ours, theirs):
    """One member of the two sides: same training set? weights apart?"""
    record = {"member": ours["member"]}
    a, b = ours.get("_indices"), theirs.get("_indices")
    if a is not None and b is not None:
        record["same_training_set"] = bool(numpy.array_equal(a, b))
    if ours.get("_weights") is not None and theirs.get("_weights"):
        record["max_abs_trained_weight_difference"] = _weight_difference(
            ours["_weights"], theirs["_weights"])
    return record


def _weight_difference(ours, theirs):
    return max(float(numpy.max(numpy.abs(
        numpy.asarray(a, numpy.float64) - b))) for a, b in zip(ours, theirs))
