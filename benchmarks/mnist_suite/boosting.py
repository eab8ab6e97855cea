"""Boosting as LeCun et al. (1998) train boosted LeNet-4: the members'
seeds, the filters that draw the 2nd and 3rd members' training sets, one
side's ensemble and its figures."""
import numpy

from .records import _accuracy
from .settings import SEED
from .spidnn_side import _packets_per_training_sample


def member_seed(member):
    """Seed of the initial weights of ensemble member ``member`` (0, 1,
    ...): each member starts from its own weights, the same on both
    sides."""
    return SEED + member


#: How the members of a boosted ensemble are trained (LeCun et al. 1998,
#: section III.C.9, after Drucker, Schapire and Simard).
BOOSTING = {
    "member 1": "the training set",
    "member 2": "the training set drawn in order, keeping alternately one "
                "sample member 1 classifies right and one it gets wrong, so "
                "half of it is misclassified by member 1",
    "member 3": "the training samples, in order, on which members 1 and 2 "
                "predict different classes",
    "wanted samples": "as many as member 1 trained on; where the training "
                      "set holds fewer, the set is smaller and ran_out says "
                      "so (the paper drew more from distorted images; this "
                      "suite does not distort)",
    "filtering": "each side (spiDNN, Keras CPU, Keras GPU) filters with its "
                 "own trained members' predictions of the training set, so "
                 "the sides' 2nd and 3rd training sets can differ",
    "initial weights": "member k (from 0) starts from the seeded Keras "
                       "weights of seed SEED + k, the same on every side",
    "epochs": "each member trains the run's epochs on its own set",
    "ensemble": "the three members' softmax outputs summed, then argmax",
    "throughput": "training: samples trained by all members / their "
                  "summed training time; predict: test samples / the "
                  "members' summed predict time (each ensemble prediction "
                  "runs all members); the training-set predictions that "
                  "filter are timed apart (filter_predict_seconds)",
}


def filter_half_wrong(predicted, labels, wanted):
    """Boosting's filter for the 2nd member: samples drawn in order, kept
    alternately one ``predicted`` gets right and one it gets wrong (a
    right one first), until ``wanted`` are kept or the samples run out.

    A right sample left without its wrong partner when the samples run
    out is dropped, so exactly half the set is misclassified.

    :return: (indices kept, description of the draw)
    """
    right = numpy.asarray(predicted) == numpy.asarray(labels)
    wanted = (int(wanted) // 2) * 2
    kept, want_right, scanned = [], True, 0
    for index, correct in enumerate(right):
        if len(kept) >= wanted:
            break
        scanned = index + 1
        if bool(correct) == want_right:
            kept.append(index)
            want_right = not want_right
    dropped = 0
    if len(kept) % 2:     # a right one whose wrong partner never came
        kept.pop()
        dropped = 1
    kept = numpy.asarray(kept, dtype=numpy.int64)
    return kept, _draw_record(
        "alternately right and wrong for member 1", kept, wanted, scanned,
        len(right), {"right": int(numpy.sum(right[kept])),
                     "wrong": int(numpy.sum(~right[kept])),
                     "available_right": int(numpy.sum(right)),
                     "available_wrong": int(numpy.sum(~right)),
                     "unpaired_right_dropped": dropped})


def filter_disagreement(predicted_1, predicted_2, wanted):
    """Boosting's filter for the 3rd member: the samples, in order, on
    which the two predictions differ, at most ``wanted`` of them.

    :return: (indices kept, description of the draw)
    """
    differ = numpy.asarray(predicted_1) != numpy.asarray(predicted_2)
    available = numpy.flatnonzero(differ)
    kept = available[:int(wanted)].astype(numpy.int64)
    scanned = int(kept[-1]) + 1 if len(kept) == wanted and len(kept) else (
        len(differ))
    return kept, _draw_record(
        "members 1 and 2 disagree", kept, wanted, scanned, len(differ),
        {"available_disagreements": int(len(available))})


def _draw_record(rule, kept, wanted, scanned, pool, counts):
    ran_out = len(kept) < wanted
    record = {"rule": rule, "wanted": int(wanted), "kept": int(len(kept)),
              "scanned": int(scanned), "pool": int(pool), **counts,
              "ran_out": ran_out}
    if ran_out:
        record["note"] = (f"the training data ran out: {len(kept)} of the "
                          f"{wanted} wanted samples after scanning all "
                          f"{pool}")
    return record


def run_boosted(spec, train_member, initial_weights, data, epochs):
    """One side's boosted ensemble (``BOOSTING``): trains the members in
    turn, each on the set the earlier members filter, and sums their
    outputs.

    :param train_member: ``run_keras``/``run_spidnn`` with its side bound:
        ``(spec, weights, data, epochs, filter_x=None) -> figures``
    :param initial_weights: one Keras weight list per member
    :return: the side's figures, shaped as a single model's (accuracy,
        rates, runs, for the tables) plus ``members``, one record each
    """
    (x_train, y_train), (x_test, y_test) = data
    wanted = len(x_train)
    members, predictions, stop = [], [], None
    for index in range(spec.members):
        record = {"member": index + 1, "seed": member_seed(index)}
        members.append(record)
        if stop:
            record["status"] = f"not run: {stop}"
            continue
        if index == 0:
            chosen = numpy.arange(len(x_train))
            draw = {"rule": "the training set", "wanted": wanted,
                    "kept": wanted, "ran_out": False}
        elif index == 1:
            chosen, draw = filter_half_wrong(predictions[0], y_train, wanted)
        elif index == 2:
            chosen, draw = filter_disagreement(predictions[0],
                                               predictions[1], wanted)
        else:
            raise ValueError("boosting as LeCun et al. have three members")
        record["training_set"] = draw
        record["_indices"] = chosen
        if len(chosen) == 0:
            record["status"] = "not trained: its filtered training set is " \
                               "empty"
            stop = f"member {index + 1} had no training samples"
            continue
        filters_later = index + 1 < spec.members
        figures = train_member(
            spec, initial_weights[index],
            ((x_train[chosen], y_train[chosen]), (x_test, y_test)), epochs,
            filter_x=x_train if filters_later else None)
        record.update(figures)
        failure = next((figures[key] for key in (
            "error", "predict_error", "filter_error") if key in figures),
            None)
        if failure is None and filters_later and (
                figures.get("_filter_probabilities") is None):
            failure = "no predictions of the training set to filter with"
        if failure is not None:
            record["status"] = "error"
            stop = f"member {index + 1} failed"
            continue
        record["status"] = "ok"
        if filters_later:
            predicted = numpy.argmax(figures["_filter_probabilities"], axis=1)
            predictions.append(predicted)
            record["training_set_accuracy"] = float(
                numpy.mean(predicted == y_train))
    return _ensemble_figures(members, y_test)


def _ensemble_figures(members, y_test):
    """A side's ensemble figures from its member records."""
    done = [m for m in members if m.get("status") == "ok"]
    failed = [m for m in members if m.get("status") == "error"]
    result = {"members": members,
              "trained": bool(done) and not failed,
              "members_in_ensemble": [m["member"] for m in done]}
    if failed:
        member = failed[0]
        reason = next((member[key] for key in (
            "error", "predict_error", "filter_error") if key in member),
            "no predictions of the training set to filter with")
        result["error"] = f"member {member['member']}: {reason}"
    for key in ("neurons_per_core", "neurons_per_core_predict",
                "cores_needed"):   # the same in all members
        value = next((m[key] for m in members if key in m), None)
        if value is not None:
            result[key] = value
    skipped = [m for m in members if m.get("status") not in ("ok", "error")]
    if skipped:
        result["members_note"] = "; ".join(
            f"member {m['member']} {m['status']}" for m in skipped)
    if not done:
        return result

    def total(key):
        values = [m.get(key) for m in done]
        return None if any(v is None for v in values) else sum(values)

    trained, timed = total("train_samples"), total("train_samples_timed")
    train_s, predict_s = total("train_seconds"), total("predict_seconds")
    fit_wall = total("fit_wall_seconds")
    n_test = len(y_test)
    probabilities = sum(m["_probabilities"].astype(numpy.float64)
                        for m in done)
    result.update({
        "accuracy": _accuracy(probabilities, y_test),
        "member_accuracies": [m.get("accuracy") for m in done],
        "train_samples": trained,
        "train_samples_per_second": (timed / train_s if timed and train_s
                                     else None),
        "train_seconds": train_s,
        "train_samples_per_second_whole_fit": (trained / fit_wall
                                               if fit_wall else None),
        "fit_wall_seconds": fit_wall,
        "predict_samples_per_second": (n_test / predict_s if predict_s
                                       else None),
        "predict_seconds": predict_s,
        "filter_predict_seconds": sum(
            m.get("filter_predict_seconds") or 0.0 for m in done),
        "_probabilities": probabilities,
    })
    wall = total("predict_wall_seconds")
    if wall:
        result["predict_samples_per_second_whole_call"] = n_test / wall
    if any("train_run" in m for m in done):
        for run in ("train_run", "predict_run"):
            result[run] = combine_runs([m.get(run) for m in done])
        result.update(_packets_per_training_sample(result["train_run"],
                                                   trained))
    for key in ("loss_per_epoch",):
        result[key] = [m.get(key) for m in done]
    return result


def combine_runs(runs):
    """One RunReport-like dict for the members' runs: counts and seconds
    summed, packets per sample weighted by samples, cores, chips, routing
    entries and DTCM the largest (the members run one after another)."""
    runs = [run for run in runs if run]
    if not runs:
        return None
    combined = {"members_combined": len(runs)}
    for key in ("samples", "packets_sent", "packets_delivered",
                "packets_dropped", "events", "weight_packets",
                "mapping_seconds", "machine_seconds"):
        values = [run.get(key) for run in runs]
        if all(v is not None for v in values):
            combined[key] = sum(values)
    for key in ("cores", "chips", "max_routing_entries", "peak_dtcm_bytes",
                "packets_per_sample_lower_bound"):
        values = [run.get(key) for run in runs if run.get(key) is not None]
        combined[key] = max(values) if values else None
    combined["backend"] = runs[0].get("backend")
    samples = sum(run.get("samples") or 0 for run in runs)
    per_partition = {}
    for run in runs:
        for key, value in (run.get("packets_per_sample") or {}).items():
            per_partition[key] = per_partition.get(key, 0.0) + (
                value * (run.get("samples") or 0))
    combined["packets_per_sample"] = {
        key: value / samples for key, value in per_partition.items()
    } if samples else {}
    combined["note"] = ("the members' runs: counts and seconds summed, "
                        "packets per sample weighted by samples, cores, "
                        "chips, routing entries and DTCM the largest")
    return combined
