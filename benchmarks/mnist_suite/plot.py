"""The run as a figure: throughput ratios, accuracies, and packets per
training sample against the lower bound."""
import numpy


def _plotted(entry, side, key):
    """One bar's height, or None: no figure, or an accuracy of spiDNN
    weights that were never trained (fit failed)."""
    figures = entry.get(side)
    if not isinstance(figures, dict):
        return None
    if side == "spidnn" and not figures.get("trained"):
        return None
    return figures.get(key)


def _grouped_bars(axes, entries, series):
    """Two bars per model (``series``: [(label, side, key)] x 2), models
    without figures labelled on the spot of their spiDNN bar."""
    x = numpy.arange(len(entries))
    width = 0.38
    for offset, (label, side, key) in zip((-width / 2, width / 2), series):
        heights = [_plotted(entry, side, key) for entry in entries]
        bars = axes.bar(x + offset, [numpy.nan if h is None else h
                                     for h in heights], width, label=label)
        axes.bar_label(bars, labels=["" if h is None else f"{h:,.0f}"
                                     if h >= 1000 else f"{h:.3g}"
                                     for h in heights], fontsize=7)
    for position, entry in zip(x, entries):
        if entry["status"] != "ok":
            text = ("not supported" if entry["status"] == "not supported"
                    else "spiDNN error")
            axes.text(position - width / 2, 0.02, text, rotation=90,
                      ha="center", va="bottom", fontsize=8,
                      transform=axes.get_xaxis_transform())
    axes.set_xticks(x, [entry["name"] for entry in entries], rotation=30,
                    ha="right")
    axes.set_xlim(-0.6, len(entries) - 0.4)   # keep models without bars
    axes.legend(fontsize=8)


def plot(results, path):
    """Throughput ratios (left, log scale), accuracies (middle) and packets
    per training sample against the lower bound (right, log scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = results["models"]
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(18, 4.8))
    _grouped_bars(left, entries, [
        ("train (machine time)", "comparison", "train_ratio"),
        ("predict (machine time)", "comparison", "predict_ratio")])
    if any(_plotted(entry, "comparison", key) for entry in entries
           for key in ("train_ratio", "predict_ratio")):
        left.set_yscale("log")
    left.axhline(1.0, color="grey", linewidth=0.8)
    left.set_ylabel("spiDNN / Keras CPU samples/s")
    left.set_title("Throughput ratio")
    _grouped_bars(middle, entries, [("spiDNN", "spidnn", "accuracy"),
                                    ("Keras CPU", "keras_cpu", "accuracy")])
    middle.set_ylim(0, 1)
    middle.set_ylabel("test accuracy")
    middle.set_title(f"Accuracy after {results['run']['epochs']} epoch(s)")
    with_packets = [dict(entry, packets=_packet_figures(entry))
                    for entry in entries]
    _grouped_bars(right, with_packets, [
        ("spiDNN", "packets", "per_training_sample"),
        ("lower bound", "packets", "lower_bound")])
    if any(_plotted(entry, "packets", "per_training_sample")
           for entry in with_packets):
        right.set_yscale("log")
    right.set_ylabel("packets per training sample")
    right.set_title("Packets per training sample (spiDNN)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _packet_figures(entry):
    """spiDNN's packets per training sample and its lower bound, if any."""
    ours = entry.get("spidnn") or {}
    if not ours.get("trained"):
        return None
    return {"per_training_sample": ours.get("packets_per_training_sample"),
            "lower_bound": (ours.get("train_run") or {}).get(
                "packets_per_sample_lower_bound")}
