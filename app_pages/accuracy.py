"""Accuracy: a pretrained BNN on the held-out subset with kernels swapped in at test time."""

import numpy as np
import streamlit as st

from dither_lab.nn.cost import cost_rows, engine_row, timing_note, timing_plan
from dither_lab.nn.evaluate import engine_comparison, swap_changes, swap_rows, swap_takeaway
from dither_lab.nn.learned import learned_takeaway
from dither_lab.nn.models import binary_layers
from dither_lab.study import trained_with
from dither_lab.ui import cached, plots, state, widgets

state.init()
st.title("Accuracy")
st.markdown(
    "Swap a kernel into the binary layers of a pretrained network and measure accuracy on held-out images: "
    "2,000 Fashion-MNIST test images shipped with dither_lab, or 2,000 CIFAR-10 test images (200 per class) when the "
    "dataset is on this machine (see *Data* in the README). The accuracy is measured again whenever you change the "
    "model, the kernels, the layers or the number of images, on the **packed 1-bit engine**: binary weights and "
    "activations as bits, convolutions as XOR and popcount, each kernel's thresholds a table per channel, with the "
    "float model's own predictions."
)
st.info("A kernel swapped in at test time is not the same as a kernel the network was trained with: the "
        "weights were learned for the trained thresholds. The first row is the network with its own kernels; where "
        "the kernel study trained a network with the swapped kernel, that accuracy (full test set, a shorter run: "
        "its epochs are in the header) is shown beside it.", icon=":material/info:")
name, model, meta = widgets.loaded_model("acc_model")
names = list(binary_layers(model))
trained_as = state.name_for(binary_layers(model)[names[0]].kernel.spec)
kernels = widgets.kernel_choice("Kernels to swap in", "acc_kernels")
if st.toggle("Compare every kernel in the library", **widgets.kept("acc_all", False),
             help="Sign and every kernel of this session's library, each swapped into the chosen layers."):
    kernels = list(state.library().items())
c1, c2 = st.columns(2)
titles = widgets.layer_titles(name)
which = c1.multiselect("Layers that take the kernel (none chosen = all)", list(range(len(names))),
                       **widgets.kept("acc_layers", [], fit=lambda v: [i for i in v if i < len(names)]),
                       format_func=lambda i: titles[names[i]],
                       help="Numbered from 0, as `--layers` of the command line counts them.")
count = c2.select_slider("Images", [200, 500, 1000, 2000], **widgets.kept("acc_count", 1000))
layers = tuple(which) if which else None
try:
    held_out = cached.eval_set(meta["dataset"])
except ValueError as exc:  # what needs no test images (the cost table) still shows
    held_out = None
    if meta["dataset"] == "cifar10":
        hint = widgets.cifar10_hint()
        st.warning(hint + " The Fashion-MNIST models work without any download." if hint else
                   f"Accuracy on CIFAR-10 needs test images: {widgets.cifar10_missing(exc)}.")
    else:
        widgets.show_error(exc)

if held_out is not None:  # live: every change of model, kernels, layers or count re-measures (cached per choice)
    bar = st.progress(0.0, text="Evaluating...")
    jobs = [("trained kernels", None)] + [(n, s) for n, s in kernels]
    results = {}
    try:
        for i, (label, spec) in enumerate(jobs):
            results[label] = cached.accuracy(name, spec, None if spec is None else layers, count, engine="packed")
            bar.progress((i + 1) / len(jobs), text=f"Evaluated {label}")
    except ValueError as exc:
        bar.empty()
        widgets.show_error(exc)
        st.stop()
    bar.empty()
    base = results["trained kernels"]["accuracy"]
    try:
        study = trained_with(meta["dataset"])
    except ValueError:
        study = {}
    changes = swap_changes([(label, spec, results[label]) for label, spec in jobs], trained_with=study)
    table = swap_rows(changes)
    widgets.metric_table(table["rows"], help=table["help"], better=table["better"], pinned=("kernel",))
    st.info(swap_takeaway(changes, trained_as=trained_as), icon=":material/lightbulb:")
    st.caption(f"On the first {changes[0]['images']:,} held-out images, measured in "
               f"{sum(r['seconds'] for r in results.values()):.2f} s on the packed engine. Green: the best of each column.")
    with st.expander("The packed engine against the float model", icon=":material/memory:"):
        # on request: a collapsed expander still runs, and the float model takes several times the packed one
        if st.toggle("Run the float model on the same images", **widgets.kept("acc_float", False)):
            floating = cached.accuracy(name, None, None, count, engine="float")
            st.markdown(engine_comparison(floating, results["trained kernels"]))
    classes = results["trained kernels"]["classes"]
    st.plotly_chart(plots.grouped_bars(classes, {k: list(r["per_class"].values()) for k, r in results.items()},
                                       title="Per-class accuracy"), key="acc_bars")
    pick = st.selectbox("Confusion matrix of", list(results), key="acc_conf")
    st.plotly_chart(plots.confusion(results[pick]["confusion"], classes), key="acc_confusion")

    st.subheader("Strength sweep")
    st.markdown("How much dithering does this network tolerate, or want? The kernel's thresholds multiplied by "
                "0 (plain Sign) to 2 (twice as far from 0), swapped into the chosen layers.")
    lib = state.library()
    s1, s2 = st.columns([2, 1])
    sweep_name = s1.selectbox("Kernel to scale", list(lib), key="acc_sweep_kernel",
                              index=list(lib.values()).index("preset:design-2x2-a")
                              if "preset:design-2x2-a" in lib.values() else 0)
    request = (name, lib[sweep_name], layers, count)
    s2.write("")  # aligns the button with the select box
    if s2.button("Run the sweep", key="acc_sweep_run", help="Nine evaluations, one per strength."):
        st.session_state["acc_sweep"] = request
    if st.session_state.get("acc_sweep") == request:  # shown for the choices it was run with
        with st.spinner("Sweeping..."):
            try:
                rows_sweep = cached.sweep(*request)
            except ValueError as exc:
                widgets.show_error(exc)
                rows_sweep = None
        if rows_sweep:
            st.plotly_chart(plots.sweep(rows_sweep, reference=base, title=f"{sweep_name}, scaled"), key="acc_sweep_plot")
            best = max(rows_sweep, key=lambda r: r["accuracy"])
            st.caption(f"Best: strength {best['strength']:g} at {best['accuracy']:.2%} on {min(count, len(held_out)):,} images; "
                       f"the network with its trained kernels: {base:.2%}.")

st.subheader("What the kernels cost")
try:
    costs = [(label, spec, cached.cost(name, spec, None if spec is None else layers))
             for label, spec in [("trained kernels", None), *kernels]]
except ValueError as exc:
    widgets.show_error(exc)
    st.stop()
cost_table = cost_rows(costs)
widgets.metric_table(cost_table["rows"], better=cost_table["better"], pinned=("kernel",))
st.caption("With batch norm folded in, Sign compares each activation with one threshold per channel, a kernel "
           "with one of its channel's m x n thresholds (the tiled map repeats), so a binary layer of C channels stores "
           "C x m x n thresholds instead of C. Every kernel makes the same one comparison per activation and no "
           f"multiply-add. Bytes at float32 against this model's {costs[0][2]['model_bytes']:,} bytes (binary weights packed); "
           "the packed engine stores integer thresholds where a binary convolution feeds the activation.")
timing_request = (name, tuple(spec for _, spec in kernels), layers)
if st.button("Time the kernels on both engines", key="acc_time",
             help="A batch of 256 random images through the float model and the packed 1-bit engine, each kernel "
                  "against Sign in the same layers, timed alternately (a second or two per kernel; longer while "
                  "the app is busy)."):
    st.session_state["acc_timed"] = timing_request
if st.session_state.get("acc_timed") == timing_request:  # shown for the choices it was run with
    timed, noise = timing_plan(kernels)  # with Sign timed against itself: the run's noise
    with st.spinner("Timing..."):
        timing_rows = [engine_row(label, cached.engine_times(name, spec, None if spec is None else layers),
                                  cached.program(name, spec, None if spec is None else layers))
                       for label, spec in timed]
    if layers is not None:  # the trained kernels are timed against Sign in every binary layer
        timing_rows[0]["kernel"] = "trained kernels (all layers)"
    widgets.metric_table(timing_rows, pinned=("kernel",), better={"packed program (bytes) ↓": "lower"})
    st.caption(timing_note(timing_rows, noise))

st.divider()
st.subheader("Learn a kernel")
if held_out is None:
    st.caption("Learning a kernel needs the held-out test images of this model's dataset (see above).")
    st.stop()
st.markdown("Fine-tune only the threshold kernel of this network (every weight frozen, gradients through the "
            "straight-through estimator) on half of the held-out subset, keeping the kernel whose loss on that "
            "half, checked every 20 steps, was lowest; then measure it on the other half. At most 30 seconds.")
lib = state.library()
l1, l2, l3 = st.columns([2, 2, 1])
init_name = l1.selectbox("Start from", list(lib), index=list(lib.values()).index("preset:design-2x2-a")
                         if "preset:design-2x2-a" in lib.values() else 0, key="acc_learn_init")
steps = l2.select_slider("Steps", [20, 50, 100, 200, 400], value=100, key="acc_learn_steps")
seed = l3.number_input("Seed", 0, 999, 0, key="acc_learn_seed", help="Draws the batches and the images the loss is "
                       "checked on. The same start, steps and seed give the same kernel.")
st.caption("A run is deterministic: from the same start, steps and seed it learns the same kernel again (unless "
           "the 30-second limit stops it sooner). Another seed draws other batches.")
if st.button("Learn the kernel", key="acc_learn"):
    from dither_lab.nn.learned import learn_and_compare

    earlier = st.session_state.get("acc_learned")  # a new run never loses the last learned kernel
    if earlier and (kept := state.keep_unsaved("learned kernel", earlier["spec"])):
        st.info(f"The kernel learned before is kept in the library as {kept!r}.")

    bar = st.progress(0.0, text="Learning...")
    try:
        st.session_state["acc_learned"] = {"start": init_name, "asked": steps, "model": name, **learn_and_compare(
            cached.model(name)[0], held_out, init=lib[init_name], steps=steps, time_limit=30.0, seed=int(seed),
            progress=lambda f, loss: bar.progress(f, text=f"Learning... loss {loss:.3f}"))}
    except ValueError as exc:
        widgets.show_error(exc)
    bar.empty()
learned = st.session_state.get("acc_learned")
if learned and learned.get("model") != name:  # learned in another model: its numbers are not this one's
    st.caption(f"The kernel learned before belongs to {learned.get('model')}; learn one for {name} above. That "
               "kernel stays in this page until the next run, and in the library once saved.")
    if st.button("Save the kernel learned in that model to the library", key="acc_learn_save_other"):
        state.save_kernel(f"learned kernel ({learned.get('model')})", learned["spec"], page="accuracy")
    if (used := state.saved("accuracy")) is not None:
        st.success(f"Saved as {used!r}.")
elif learned:
    start = learned.get("start", "the start kernel")
    c1, c2, c3 = st.columns(3)
    c1.metric("trained kernels ↑", f"{learned['trained']:.2%}")
    c2.metric("start kernel ↑", f"{learned['before']:.2%}", help=f"{start}, swapped in")
    c3.metric("learned kernel ↑", f"{learned['after']:.2%}", f"{100 * (learned['after'] - learned['before']):+.2f} points")
    st.info(learned_takeaway(learned, start), icon=":material/lightbulb:")
    st.caption(f"Accuracy on the {learned['held_out']:,} held-out images not used for learning (higher is better), "
               f"after {learned['steps']} steps"
               + (f" of {learned['asked']} (the 30-second limit stopped it, so a rerun may differ)"
                  if learned.get("asked", learned["steps"]) > learned["steps"] else "")
               + f" from {start} with seed {learned.get('seed', 0)}: the learned kernel "
               f"put right {learned['fixed']} images the start kernel got wrong and got {learned['broken']} wrong that "
               f"it had right; chance alone moves the difference by up to ±{100 * learned['chance']:.2f} points "
               "(sign test on the changed images, 95%). "
               f"Learned values (batch-norm units): {np.round(learned['values'], 4).tolist()}")
    if st.button("Save the learned kernel to the library", key="acc_learn_save"):
        state.save_kernel("learned kernel", learned["spec"], page="accuracy")
    if (used := state.saved("accuracy")) is not None:
        st.success(f"Saved as {used!r}.")
