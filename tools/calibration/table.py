"""The cost table (spiDNN/costs/arm_costs.json) from the measurements: per
app its entries, its points' lines, their variants, how well the lines
predict the fitted and the held-out models, and the app's memory use.
"""
from spiDNN.abi import optimizers as abi_optimizers
from tools.calibration import cycle_model, fit

#: SpiNNaker's ARM968 clock (the VM's virtual clock runs at this rate).
CLOCK_HZ = 200e6
#: Points whose cost depends on what their size does not say, fitted
#: apart per optimizer variant of the grid's models (each variant of each
#: registered optimizer has a point of its own, update_<variant>, so these
#: only show a point two variants were to share) and per layer kind
#: (pooling's modes share the pool app).
BY_OPTIMIZER = tuple(abi_optimizers.cost_points())
BY_LAYER = ("forward", "input_gradient")
NOTES = (
    "A callback costs entry[kind] (packet: the packet-received callback; "
    "task: a queued callback) plus, for each cost mark it passes, "
    "base + slope * size of the mark's point (cycles at clock_hz), the "
    "mark's segment running to the next mark or the callback's return.  "
    "Lines are least squares over the measured segments, held to a base "
    "and slope of at least zero.  update_<variant>: each variant of each "
    "optimizer (momentum, Nesterov) has a point of its own.  A point an app "
    "never reached takes another app's line (spiDNN/vm/clock.py).")


def _variants(measurement, app):
    """The variant points' lines fitted per optimizer and per layer kind:
    how far apart the cases one point covers lie."""
    variants = {}
    for group_by, names in (("optimizer", BY_OPTIMIZER),
                            ("layer_kind", BY_LAYER)):
        groups = sorted({getattr(core, group_by)
                         for core in measurement.cores[app]})
        if len(groups) < 2:
            continue
        found = {}
        for group in groups:
            points = fit.fit_points(measurement.callbacks(
                app, lambda core: getattr(core, group_by) == group))
            for name in names:
                if name in points:
                    found.setdefault(name, {})[group] = {
                        key: points[name][key] for key in (
                            "base_cycles", "slope_cycles", "samples",
                            "sizes")}
        variants[f"by_{group_by}"] = {
            name: lines for name, lines in found.items() if len(lines) > 1}
    return variants


def app_table(measurement, app, images):
    callbacks = measurement.callbacks(app)
    entry = fit.fit_entries(callbacks)
    points = fit.fit_points(callbacks)
    return {
        "entry": entry, "points": points,
        "variants": _variants(measurement, app),
        "cores_replayed": len(measurement.cores[app]),
        **images[app].sizes(),
        "stack_bytes_max": measurement.stack[app],
        "heap_bytes_max": measurement.heap[app],
        "c_main_cycles_max": measurement.c_main[app],
    }


def build(fitted, held_out, images, digest, compiler, models):
    """The whole table from the fitted and the held-out measurements."""
    apps = {app: app_table(fitted, app, images)
            for app in images if fitted.cores[app]}
    for app, costs in apps.items():
        points = fit.resolve(apps, app)
        costs["validation"] = {
            which: fit.validate(costs["entry"], points,
                                [core.callbacks for core in m.cores[app]])
            for which, m in (("fitted_models", fitted),
                             ("held_out_models", held_out))
            if m.cores[app]}
    check = fitted.check()
    for key, value in held_out.check().items():
        check[key] += value
    check["what"] = (
        "each replayed core's ARM sends, per outgoing partition, equal bit "
        "for bit (key, payload, payload flag, order) the packets the host "
        "build's cores received on that partition; on a partition routed "
        "nowhere, the VM's count of the host build's sends")
    return {
        "clock_hz": CLOCK_HZ,
        "code_sha256": digest,
        "cycle_model": cycle_model.DESCRIPTION,
        "compiler": compiler,
        "notes": NOTES,
        "models": models,
        "check": check,
        "apps": apps,
    }


def summary(table):
    """The table in lines of text."""
    lines = []
    for app, costs in table["apps"].items():
        entry = costs["entry"]
        lines.append(
            f"{app}: entry packet {entry['packet']['base_cycles']:.0f} / "
            f"task {entry['task']['base_cycles']:.0f} cycles; ITCM "
            f"{costs['itcm_bytes']} B, static DTCM "
            f"{costs['dtcm_static_bytes']} B, stack "
            f"{costs['stack_bytes_max']} B")
        for which, v in costs["validation"].items():
            lines.append(
                f"  {which}: {v['callbacks']} callbacks, error max "
                f"{v['max_relative_error']:.0%} mean "
                f"{v['mean_relative_error']:.0%}; >= 1000 cycles max "
                f"{v['max_relative_error_large']:.0%} mean "
                f"{v['mean_relative_error_large']:.0%}; {v['cores']} cores' "
                f"totals max {v['max_relative_error_core_total']:.1%} mean "
                f"{v['mean_relative_error_core_total']:.1%}; total "
                f"{v['total_relative_error']:.1%}")
        for name, line in costs["points"].items():
            lines.append(
                f"    {name:36s} {line['base_cycles']:8.1f} + "
                f"{line['slope_cycles']:7.1f} * size cycles "
                f"({line['base_instructions']:.0f} + "
                f"{line['slope_instructions']:.1f} * size instr.; "
                f"{line['samples']} at sizes {line['sizes']}, "
                f"{line['fit']})")
        for by, variants in costs["variants"].items():
            for name, groups in variants.items():
                lines.append(
                    f"    {name} {by.replace('_', ' ')}: " + ", ".join(
                        f"{group} {v['base_cycles']:.0f} + "
                        f"{v['slope_cycles']:.1f}"
                        for group, v in groups.items()))
    check = table["check"]
    lines.append(f"ARM vs host: {check['packets_compared']} packets "
                 f"compared, {check['packets_counted']} counted, "
                 f"{len(check['mismatches'])} mismatches")
    lines += [f"    {m}" for m in check["mismatches"][:20]]
    lines += [f"    logged: {m}" for m in check["logged"][:20]]
    return "\n".join(lines)
