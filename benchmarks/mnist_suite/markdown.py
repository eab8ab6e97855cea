"""The run as Markdown: the results table, the machine table, packets by
layer and partition, the boosted members, the board's predictions and
Keras on the GPU."""
from .settings import BATCH_SIZE, LEARNING_RATE


def _fmt(value, spec=",.1f"):
    return "—" if value is None else format(value, spec)


def _rate_pair(side, key):
    """'machine / whole call' rates of one side, or a dash."""
    return f"{_fmt(side.get(key))} / {_fmt(side.get(key + '_whole_fit'))}"


def _status_text(entry):
    if entry["status"] == "not supported":
        return f"not supported: {entry['reason']}"
    if entry["status"] == "error":
        spidnn = entry["spidnn"]
        text = "spiDNN " + (spidnn.get("error") or spidnn["predict_error"])
        text = " ".join(text.replace("|", "/").split())   # one table cell
        return text if len(text) <= 120 else text[:117] + "..."
    return "ok"


def markdown(results):
    """The run as Markdown: a header, a results table, a machine table."""
    run = results["run"]
    gpu_text = ", ".join(results["gpu"]["devices"]) or "no GPU present"
    lines = [
        "# MNIST suite: spiDNN (virtual SpiNNaker machine) vs Keras",
        "",
        f"{run['timestamp']}; {run['train_samples']} training and "
        f"{run['test_samples']} test images, {run['epochs']} epoch(s), "
        f"SGD lr {LEARNING_RATE}, batch {BATCH_SIZE}, no shuffling; "
        f"{results['machine']['cpu_count']} CPUs; GPU: {gpu_text}.",
        "Throughputs are samples/s; spiDNN's over machine time (mapping "
        "excluded), Keras' after its tracing batch; ratio = spiDNN / Keras "
        "(CPU).",
        "",
        "| model | status | spiDNN acc. | Keras acc. | train spiDNN "
        "(machine / whole fit) | train Keras | train ratio | predict spiDNN "
        "| predict Keras | predict ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["models"]:
        if not entry["supported"]:
            lines.append(f"| {entry['name']} | {_status_text(entry)} |"
                         + " — |" * 8)
            continue
        ours, theirs = entry["spidnn"], entry["keras_cpu"]
        comparison = entry["comparison"]
        accuracy = _trained_accuracy(ours)
        lines.append(
            f"| {entry['name']} | {_status_text(entry)} | {accuracy} "
            f"| {_fmt(theirs['accuracy'], '.4f')} "
            f"| {_rate_pair(ours, 'train_samples_per_second')} "
            f"| {_fmt(theirs['train_samples_per_second'])} "
            f"| {_fmt(comparison['train_ratio'], '.4f')} "
            f"| {_fmt(ours.get('predict_samples_per_second'))} "
            f"| {_fmt(theirs['predict_samples_per_second'])} "
            f"| {_fmt(comparison['predict_ratio'], '.4f')} |")
    lines += [
        "",
        "| model | mapping s (train / predict) | cores | chips "
        "| packets per training sample (lower bound) | max routing entries "
        "| peak DTCM bytes/core |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in results["models"]:
        ours = entry.get("spidnn") or {}
        train, predict = ours.get("train_run") or {}, ours.get(
            "predict_run") or {}
        either = train or predict
        lines.append(
            f"| {entry['name']} "
            f"| {_fmt(train.get('mapping_seconds'), '.2f')} / "
            f"{_fmt(predict.get('mapping_seconds'), '.2f')} "
            f"| {_fmt(either.get('cores'), 'd')} "
            f"| {_fmt(either.get('chips'), 'd')} "
            f"| {_fmt(ours.get('packets_per_training_sample'), ',.1f')} "
            f"({_fmt(train.get('packets_per_sample_lower_bound'), ',.1f')}) "
            f"| {_fmt(either.get('max_routing_entries'), 'd')} "
            f"| {_fmt(_peak_dtcm(train, predict), ',d')} |")
    packets = _packets_table(results["models"])
    if packets:
        lines += [""] + packets
    boosting = _boosting_table(results["models"])
    if boosting:
        lines += [""] + boosting
    board = _board_table(results["models"])
    if board:
        lines += [""] + board
    if results["gpu"]["present"]:
        lines += [""] + _gpu_table(results["models"])
    return "\n".join(lines) + "\n"


def _trained_accuracy(figures):
    """Test accuracy, "untrained" where fit failed and predict ran on the
    initial weights, or a dash."""
    if figures.get("trained"):
        return _fmt(figures.get("accuracy"), ".4f")
    return "untrained" if "accuracy" in figures else "—"


def _packets_table(entries):
    """Markdown lines: spiDNN's packets per sample by layer and partition
    (RunReport.packets_per_sample) in training and in predict, each
    model's total against RunReport.packets_per_sample_lower_bound."""
    lines = ["Packets per sample by layer/partition (spiDNN's "
             "RunReport.packets_per_sample; an ensemble's averaged over "
             "its members' runs):",
             "",
             "| model | layer/partition | per training sample "
             "| per predict sample |",
             "|---|---|---|---|"]
    rows = 0
    for entry in entries:
        ours = entry.get("spidnn") or {}
        train = ours.get("train_run") or {}
        predict = ours.get("predict_run") or {}
        train_packets = train.get("packets_per_sample") or {}
        predict_packets = predict.get("packets_per_sample") or {}
        keys = list(dict.fromkeys(list(train_packets)
                                  + list(predict_packets)))
        for key in keys:
            lines.append(f"| {entry['name']} | {key} "
                         f"| {_fmt(train_packets.get(key), ',.1f')} "
                         f"| {_fmt(predict_packets.get(key), ',.1f')} |")
            rows += 1
        if keys:
            lines.append(
                f"| {entry['name']} | **total** (lower bound) "
                f"| {_fmt(_total(train_packets), ',.1f')} "
                f"({_fmt(train.get('packets_per_sample_lower_bound'), ',')})"
                f" | {_fmt(_total(predict_packets), ',.1f')} "
                f"({_fmt(predict.get('packets_per_sample_lower_bound'), ',')}"
                f") |")
    return lines if rows else []


def _total(packets):
    return float(sum(packets.values())) if packets else None


def _draw_text(member):
    """A member's training set in a few words."""
    draw = member.get("training_set")
    if not draw:
        return "—"
    if "right" in draw:
        text = f"{draw['kept']:,} ({draw['right']:,} right / " \
               f"{draw['wrong']:,} wrong)"
    elif "available_disagreements" in draw:
        text = f"{draw['kept']:,} disagreements"
    else:
        text = f"{draw['kept']:,} (all)"
    return text + (" ran out" if draw.get("ran_out") else "")


def _boosting_table(entries):
    """Markdown lines: each ensemble member of spiDNN and Keras (CPU), its
    training set, test accuracy and training rate, and the ensemble."""
    lines = ["Boosted ensembles, member by member (each side filters with "
             "its own members; training set: samples kept by the filter, "
             "\"ran out\" where the training set held fewer than wanted):",
             "",
             "| model | member | training set spiDNN | training set Keras "
             "| acc. spiDNN | acc. Keras | train spiDNN | train Keras |",
             "|---|---|---|---|---|---|---|---|"]
    notes, rows = [], 0
    for entry in entries:
        ours, theirs = entry.get("spidnn") or {}, entry.get("keras_cpu") or {}
        if "members" not in ours:
            continue
        for mine, keras in zip(ours["members"], theirs.get("members", [])):
            def status(member):
                return "" if member.get("status") == "ok" else (
                    " (" + " ".join(str(member.get("status")).split())[:60]
                    + ")")
            lines.append(
                f"| {entry['name']} | {mine['member']} "
                f"| {_draw_text(mine)}{status(mine)} "
                f"| {_draw_text(keras)}{status(keras)} "
                f"| {_trained_accuracy(mine)} "
                f"| {_trained_accuracy(keras)} "
                f"| {_fmt(mine.get('train_samples_per_second'))} "
                f"| {_fmt(keras.get('train_samples_per_second'))} |")
            rows += 1
            for side, member in (("spiDNN", mine), ("Keras", keras)):
                note = (member.get("training_set") or {}).get("note")
                if note:
                    notes.append(f"- {entry['name']} member "
                                 f"{member['member']}, {side}: {note}.")
        lines.append(
            f"| {entry['name']} | **ensemble** (sum) "
            f"| {_fmt(ours.get('train_samples'), ',d')} samples trained "
            f"| {_fmt(theirs.get('train_samples'), ',d')} samples trained "
            f"| {_fmt(ours.get('accuracy'), '.4f')} "
            f"| {_fmt(theirs.get('accuracy'), '.4f')} "
            f"| {_fmt(ours.get('train_samples_per_second'))} "
            f"| {_fmt(theirs.get('train_samples_per_second'))} |")
    if not rows:
        return []
    return lines + ([""] + notes if notes else [])


def _board_table(entries):
    """Markdown lines of what the virtual clock predicts for a SpiNNaker
    board (spiDNN/vm/timing.py) beside Keras on the CPU, for the runs that
    had the clock."""
    lines = ["Predicted on a SpiNNaker board (the virtual clock, on the "
             "cores the model uses; benchmarks/board_prediction.py adds "
             "energy against Keras and a whole board):", "",
             "| model | train samples/s (Keras CPU) | train mJ/sample "
             "| predict samples/s (Keras CPU) | predict mJ/sample "
             "| training bottleneck |",
             "|---|---|---|---|---|---|"]
    rows = 0
    for entry in entries:
        ours, theirs = entry.get("spidnn") or {}, entry.get("keras_cpu") or {}
        train = ours.get("train_run") or {}
        predict = ours.get("predict_run") or {}
        if train.get("predicted_seconds") is None and predict.get(
                "predicted_seconds") is None:
            continue
        rows += 1
        lines.append(
            f"| {entry['name']} "
            f"| {_fmt(train.get('predicted_samples_per_second'))} "
            f"({_fmt(theirs.get('train_samples_per_second'))}) "
            f"| {_fmt(_milli(train.get('predicted_joules_per_sample')), '.3f')} "
            f"| {_fmt(predict.get('predicted_samples_per_second'))} "
            f"({_fmt(theirs.get('predict_samples_per_second'))}) "
            f"| {_fmt(_milli(predict.get('predicted_joules_per_sample')), '.3f')} "
            f"| {train.get('bottleneck') or '—'} |")
    return lines if rows else []


def _milli(value):
    return None if value is None else 1e3 * value


def _gpu_table(entries):
    """Markdown lines of Keras on the GPU, for models it ran on one."""
    lines = ["| model | Keras GPU acc. | train Keras GPU | train ratio "
             "| predict Keras GPU | predict ratio |",
             "|---|---|---|---|---|---|"]
    for entry in entries:
        gpu = entry.get("keras_gpu")
        if not isinstance(gpu, dict):
            continue
        if "error" in gpu:
            lines.append(f"| {entry['name']} | {gpu['error']} |"
                         + " — |" * 4)
            continue
        comparison = entry.get("comparison_gpu", {})
        lines.append(
            f"| {entry['name']} | {_fmt(gpu['accuracy'], '.4f')} "
            f"| {_fmt(gpu['train_samples_per_second'])} "
            f"| {_fmt(comparison.get('train_ratio'), '.4f')} "
            f"| {_fmt(gpu['predict_samples_per_second'])} "
            f"| {_fmt(comparison.get('predict_ratio'), '.4f')} |")
    return lines


def _peak_dtcm(*runs):
    values = [run.get("peak_dtcm_bytes") for run in runs if run]
    values = [value for value in values if value is not None]
    return max(values) if values else None
