"""Every page under Streamlit's AppTest: runs clean, widgets change the output, uploads work, numbers match."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from dither_lab.imaging.compare import compare, metrics_table
from dither_lab.imaging.samples import sample_image
from dither_lab.kernels import make_kernel
from dither_lab.ui import widgets
from tests.app.app_helpers import marked

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _app(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _table(at: AppTest, i: int = 0):
    return at.dataframe[i].value


def test_image_lab_default_and_metrics_match_library():
    at = _app()
    assert at.title[0].value == "Image lab"
    tone, pixels = _table(at), _table(at, 1)  # tone and detail first, pixel fidelity after
    assert list(tone["output"]) == list(pixels["output"]) == ["Sign", "Bayer 4x4"]  # the library's names
    expected = metrics_table(compare(sample_image("camera"), ["bayer:4"]))
    for row, px, exp in zip(tone.to_dict("records"), pixels.to_dict("records"), expected, strict=True):
        assert row["spec"] == exp["spec"]
        assert row["tone error ↓"] == pytest.approx(exp["tone error ↓"])
        assert px["PSNR (dB) ↑"] == pytest.approx(exp["PSNR (dB) ↑"])
        assert px["SSIM ↑"] == pytest.approx(exp["SSIM ↑"])


def test_image_lab_widgets_change_output():
    at = _app()
    before = _table(at)
    at.multiselect(key="lab_kernels").set_value(["Blue noise 64", "DeSign 2x2 (paper)"]).run()
    after = _table(at)
    assert len(after) == 3 and "Blue noise 64" in list(after["output"])
    assert at.query_params["kernel"] in ("preset:design-2x2-a", ["preset:design-2x2-a"])
    at.selectbox(key="lab_sample").set_value("gray-ramp").run()
    assert not at.exception
    assert not _table(at).equals(before)
    at.multiselect(key="lab_diffusion").set_value(["floyd-steinberg"]).run()
    assert "Floyd-Steinberg diffusion" in list(_table(at)["output"])
    at.radio(key="lab_scale").set_value(4).run()  # pixel-exact view: same outputs, panels open at 4:1
    assert not at.exception and "Floyd-Steinberg diffusion" in list(_table(at)["output"])


def test_image_lab_upload_and_bad_upload():
    at = _app()
    ramp = (np.tile(np.linspace(0, 255, 64), (16, 1))).astype(np.uint8)
    at.file_uploader(key="lab_upload").upload("ramp.png", _png(ramp), "image/png").run()
    assert not at.exception
    expected = metrics_table(compare(ramp.astype(np.float32) / 255, ["bayer:4"]))
    assert _table(at, 1).iloc[1]["PSNR (dB) ↑"] == pytest.approx(expected[1]["PSNR (dB) ↑"], rel=1e-5)
    at.file_uploader(key="lab_upload").upload("evil.png", b"<script>alert(1)</script>", "image/png").run()
    assert not at.exception
    message = next(e.value for e in at.error if "not a readable image" in e.value)
    assert message.startswith("evil.png is not a readable image") and "object at 0x" not in message


def test_bad_sample_or_model_in_a_link_is_said():
    # Only a bad kernel warned; a bad sample or model was ignored without a word
    at = _app(sample="zone_plate", model="mnist-design")
    warnings = [w.value for w in at.warning]
    assert any("The link's sample was not used: 'zone_plate' is not one of the samples" in w and "zone-plate" in w
               for w in warnings)
    assert any("The link's model was not used: 'mnist-design'" in w and "fashion-mnist-design" in w for w in warnings)
    at.run()  # said once
    assert not any("The link's" in w.value for w in at.warning)
    assert at.query_params["sample"] in ("camera", ["camera"])  # the link now names what is used
    assert "model" not in at.query_params  # no model is in use on the Image lab: the bad one is gone
    at = _app(sample="zone-plate", model="fashion-mnist-design")  # valid values are used, without a word
    assert not at.warning and at.selectbox(key="lab_sample").value == "zone-plate"
    assert at.session_state["dl_model"] == "fashion-mnist-design"


def test_kernel_from_url_and_bad_url_kernel():
    at = _app(kernel="cluster-dot:4")
    assert "Cluster-dot 4x4" in list(_table(at)["output"])  # the library's name for it
    at = _app(kernel="bayer:3")
    assert any("link's kernel was not used" in w.value for w in at.warning)
    at = _app(kernel="blue-noise:16:seed=3")  # a kernel not in the library joins it under its own name
    assert at.multiselect(key="lab_kernels").value == ["blue noise 16x16 (seed 3)"]
    assert at.session_state["dl_library"]["blue noise 16x16 (seed 3)"] == "blue-noise:16:seed=3"
    at = _app(kernel="custom:0.1,0.2;0.3,0.4")  # a hand-made one has no better name than this
    assert at.multiselect(key="lab_kernels").value == ["current kernel"]


def test_kernel_designer_generator_edit_and_save():
    at = _app("app_pages/kernel_designer.py")
    assert at.title[0].value == "Kernel designer"
    at.selectbox(key="des_gen").set_value("bayer").run()
    at.button(key="des_load").click().run()
    assert not at.exception
    assert "bayer:4" in at.main.caption[-1].value and "needs 16 thresholds per channel" in at.main.caption[-1].value
    assert at.text_input[0].value == "Bayer 4x4"  # the name offered is the loaded kernel's
    at.text_input[0].set_value("my bayer").run()
    at.button(key="des_save").click().run()
    assert any("Saved as 'my bayer'" in s.value for s in at.success)
    assert at.session_state["dl_library"]["my bayer"] == "bayer:4"
    version = at.session_state["des_editor_version"]
    at.number_input(key=f"des_f_{version}").set_value(2).run()  # an edit: the name offered says so
    assert not at.exception and at.text_input[0].value == "Bayer 4x4 (edited)"
    at.button(key="des_save").click().run()
    lib = at.session_state["dl_library"]
    assert lib["Bayer 4x4 (edited)"].startswith("custom:") and lib["my bayer"] == "bayer:4"
    # an edit not saved is kept when another kernel is loaded over it: nothing the user made is lost
    version = at.session_state["des_editor_version"]
    at.number_input(key=f"des_rows_{version}").set_value(3).run()
    edited = dict(at.session_state["dl_designer"])
    at.selectbox(key="des_gen").set_value("cluster-dot").run()
    at.button(key="des_load").click().run()
    assert not at.exception and at.text_input[0].value == "cluster-dot 4x4"
    kept = at.session_state["dl_library"]["Bayer 4x4 (edited) (2)"]
    assert kept.startswith("custom:") and make_kernel(kept).shape == edited["values"].shape
    assert any("kept in the library as 'Bayer 4x4 (edited) (2)'" in i.value for i in at.info)
    size = len(at.session_state["dl_library"])
    at.button(key="des_load").click().run()  # loading over an unedited kernel keeps nothing more
    assert len(at.session_state["dl_library"]) == size and not any("kept in the library" in i.value for i in at.info)


def test_kernel_library_survives_a_new_session_through_its_file():
    # A reload starts a new session and the library saved in the old one was gone; the sidebar's download keeps
    # it, and loading that file into a fresh session brings every kernel back without replacing any there.
    from dither_lab.io import library_bytes, read_library_bytes
    from dither_lab.ui.state import DEFAULT_LIBRARY

    at = _app("app_pages/kernel_designer.py")
    at.selectbox(key="des_gen").set_value("bayer").run()
    at.button(key="des_load").click().run()
    at.text_input[0].set_value("my bayer").run()
    at.button(key="des_save").click().run()
    saved = dict(at.session_state["dl_library"])
    assert saved["my bayer"] == "bayer:4" and any("Kernel library" in s.value for s in at.success)
    # the sidebar, drawn before the page, counts the kernel just saved: saving reruns the page
    assert at.sidebar.get("download_button")[0].proto.label == f"Download the library ({len(saved)} kernels)"
    fresh = _app("app_pages/image_lab.py")
    fresh.session_state["dl_library"]["my bayer"] = "bayer:8"  # the new session has its own kernel of that name
    fresh.file_uploader(key="lib_upload").upload("dither_lab_library.json", library_bytes(saved), "application/json").run()
    assert not fresh.exception
    lib = fresh.session_state["dl_library"]
    assert lib["my bayer"] == "bayer:8" and lib["my bayer (2)"] == "bayer:4"  # both kept
    assert set(DEFAULT_LIBRARY) <= set(lib)
    assert "my bayer (2)" in fresh.multiselect(key="lab_kernels").options  # every page offers it at once
    assert read_library_bytes(library_bytes(lib)) == lib
    fresh.file_uploader(key="lib_upload").upload("notes.json", b"\x89PNG....", "application/json").run()
    assert not fresh.exception and any("not a dither_lab kernel library" in e.value for e in fresh.error)


def test_kernel_designer_opens_the_kernel_a_link_brought():
    # The Learn page links "Design a blue-noise kernel" here with ?kernel=blue-noise:16; the editor opened on the
    # paper's 2x2 instead. A link's kernel is loaded on a first visit only: later visits keep the user's edits.
    at = _app("app_pages/kernel_designer.py", kernel="blue-noise:16")
    assert at.session_state["dl_designer"]["values"].shape == (1, 16, 16)
    assert "blue-noise:16" in at.main.caption[-1].value
    at.query_params["kernel"] = "bayer:2"  # a later link: the current kernel follows, the editor keeps its kernel
    at.run()
    assert at.session_state["dl_kernel"] == "bayer:2" and at.session_state["dl_designer"]["values"].shape == (1, 16, 16)


def test_kernel_designer_opens_the_kernel_in_use():
    at = _app()
    at.multiselect(key="lab_kernels").set_value(["DeSign 3x3 (paper)"]).run()
    at.switch_page("app_pages/kernel_designer.py").run()
    assert "preset:design-3x3-a" in at.main.caption[-1].value
    assert at.selectbox(key="des_gen").value == "preset" and at.selectbox(key="des_preset_name").value == "design-3x3-a"


def test_kernel_designer_upload_kernel_file():
    from dither_lab.io import kernel_bytes
    from dither_lab.kernels import make_kernel

    at = _app("app_pages/kernel_designer.py")
    at.file_uploader(key="des_upload").upload("k.mat", kernel_bytes(make_kernel("preset:design3d-2x2x4"), "mat")).run()
    assert not at.exception
    assert any("Loaded k.mat: shape [4, 2, 2]" in s.value for s in at.success)
    at.file_uploader(key="des_upload").upload("bad.json", b"{not json").run()
    assert any("malformed JSON" in e.value for e in at.error)


def test_learn_page():
    at = _app("app_pages/learn.py")
    assert len(at.latex) >= 3
    at.slider(key="learn_t").set_value(0.25).run()
    assert not at.exception
    assert any("a 4x4 kernel renders 17 gray levels" in m.value for m in at.markdown)
    at.select_slider(key="learn_n").set_value(8).run()
    assert any("an 8x8 kernel renders 65 gray levels" in m.value for m in at.markdown)
    at.selectbox(key="learn_k5").set_value("Bayer 4x4").run()  # step 5: a library kernel on a BN map
    assert not at.exception
    from dither_lab.nn.feature_maps import compare_activation, takeaway
    from dither_lab.ui.cached import standardized

    res = compare_activation(standardized("camera"), "bayer:4")
    assert takeaway(res, "Bayer 4x4") in [i.value for i in at.info]  # computed, not canned
    assert list(_table(at)["output"]) == ["Sign", "Bayer 4x4"]  # centred: Sign at its mean would be Sign again
    assert max(_image_widths(at)) <= 128


def test_learn_links_open_views_that_show_a_real_effect():
    # The accuracy link swapped the model's own kernel in (a 0.0 change); now each link opens a view where the
    # effect is there to see, and Learn's own sentences are computed from the same numbers
    import urllib.parse

    from dither_lab.study import swap_lesson

    at = _app("app_pages/learn.py")
    assert swap_lesson("fashion-mnist")["text"] in [i.value for i in at.info]
    links = {link.proto.page: dict(urllib.parse.parse_qsl(link.proto.query_string)) for link in at.get("page_link")
             if link.proto.page in ("accuracy", "feature_maps")}
    assert links["accuracy"] == {"kernel": "sign", "model": "fashion-mnist-design"}
    acc = _app("app_pages/accuracy.py", **links["accuracy"])
    assert any(i.value.startswith("Swapping Sign in breaks the network") for i in acc.info)
    maps = links["feature_maps"]
    assert maps["model"] == "fashion-mnist-design" and maps["kernel"] == "preset:design-2x2-a"
    fm = _app("app_pages/feature_maps.py", **maps)
    assert fm.number_input(key="fm_channel").value == int(maps["channel"])
    detail = _table(fm)["local correlation ↑"]
    assert detail[1] > max(detail[0], detail[2])  # the kernel keeps more than Sign, and than Sign at its mean
    assert any("it keeps more local detail" in i.value for i in fm.info)
    sentence = next(m.value for m in at.markdown if m.value.startswith("**Inside the DeSign model**"))
    assert f"in layer {maps['layer']}, DeSign 2x2 (paper) keeps more than both" in sentence
    assert f"The clearest of them is channel {maps['channel']}" in sentence and f"{detail[1]:.3f}" in sentence


def _image_widths(at: AppTest) -> list[int]:
    """Pixel widths of the images that a page's figures draw."""
    from dither_lab.ui.plots import _image_size

    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [_image_size(d["source"])[1] for spec in specs for d in spec["data"] if d.get("type") == "image"]


def test_teaching_examples_are_drawn_larger_than_their_pixels():
    # A page column is several hundred pixels wide: an example wider than that is drawn smaller than its pixels,
    # and a dither pattern then aliases into moiré that is not in the image (the Learn ramps and photos were 512
    # pixels wide, the designer's ramp too).
    assert max(_image_widths(_app("app_pages/kernel_designer.py"))) <= 128


def _marked(at: AppTest, i: int) -> set[tuple[int, str]]:
    """(row, column name) of the cells table ``i`` marks as best (green)."""
    return marked(at.dataframe[i])


def test_feature_maps_page():
    from dither_lab.data import embedded_subset
    from dither_lab.imaging.compare import METRIC_LABELS
    from dither_lab.nn.feature_maps import compare_activation, layer_maps, layer_summary, summary_takeaway, takeaway
    from dither_lab.nn.models import load_pretrained

    at = _app("app_pages/feature_maps.py", kernel="preset:design-2x2-a", model="fashion-mnist-design")
    assert at.title[0].value == "Feature maps"
    df = _table(at)
    # one name per output: the library's name of the kernel, and Sign at the kernel's mean threshold
    assert list(df["output"]) == ["Sign", "DeSign 2x2 (paper)", "Sign at +0.64 (kernel mean)"]
    at.slider(key="fm_index").set_value(7).run()
    at.number_input(key="fm_channel").set_value(3).run()
    assert not at.exception
    df = _table(at)
    # the numbers and the takeaway are the library's, for this image, layer and channel
    model, _ = load_pretrained("fashion-mnist-design")
    maps = layer_maps(model, embedded_subset().images[7:8], "fashion-mnist")
    res = compare_activation(maps["features.0"]["bn"][0][3], "preset:design-2x2-a", channel=3)
    lc = METRIC_LABELS["local_correlation"]
    assert list(df[lc]) == pytest.approx([res["metrics"][k]["local_correlation"] for k in ("Sign", "dithered", "shifted Sign")])
    best = max(range(3), key=lambda i: df[lc][i])
    assert (best, lc) in _marked(at, 0) and (best, "output") not in _marked(at, 0)  # the best is marked green
    infos = [i.value for i in at.info]
    assert takeaway(res, "DeSign 2x2 (paper)") in infos
    summary = layer_summary({n: m["bn"][0] for n, m in maps.items()}, "preset:design-2x2-a")
    assert summary_takeaway(summary, "DeSign 2x2 (paper)") in infos
    mosaic = next(c.value for c in at.main.caption if "channels, 6 to a row" in c.value)
    assert mosaic.startswith("All 32") and "with DeSign 2x2 (paper)" in mosaic and "channel 3 framed" in mosaic
    layers = at.dataframe[-1].value.join(at.dataframe[-2].value.set_index("layer"), on="layer")  # every binary layer
    # the paper's kernel fires less than Sign, never more
    assert list(layers["layer"]) == ["0: conv 1", "1: conv 2", "2: conv 3", "3: conv 4"]
    assert len(layers) == 4 and (layers["+1s: Sign (%)"] >= layers["+1s: DeSign 2x2 (paper) (%)"]).all()
    assert list(layers["BN mean"]) == [round(r["bn_mean"], 2) for r in summary]  # the network's own shift
    detail = ["detail: Sign ↑", "detail: DeSign 2x2 (paper) ↑", "detail: shifted Sign ↑"]
    assert list(at.dataframe[-2].value.columns) == ["layer", *detail]  # the detail kept, in a table of its own
    marked = _marked(at, len(at.dataframe) - 2)
    for i in range(4):  # in each layer, the most detail kept is marked
        assert (i, detail[int(np.argmax(layers.loc[i, detail].to_numpy(dtype=float)))]) in marked


def test_accuracy_page_runs_and_matches_library():
    from dither_lab.data import embedded_subset
    from dither_lab.nn.evaluate import evaluate, swap_changes, swap_takeaway
    from dither_lab.nn.models import load_pretrained
    from dither_lab.study import trained_with

    at = _app("app_pages/accuracy.py", kernel="preset:design-2x2-a")
    assert len(_table(at)) == 2  # live: measured on opening, without a button
    at.select_slider(key="acc_count").set_value(200).run()
    assert not at.exception
    df = _table(at)
    model, _ = load_pretrained(at.session_state["dl_model"])
    trained = evaluate(model, embedded_subset(), count=200, per_image=True)
    assert df.iloc[0]["accuracy (%) ↑"] == pytest.approx(100 * trained["accuracy"], abs=0.005)  # in percent
    assert len(df) == 2 and list(df["kernel"]) == ["trained kernels", "DeSign 2x2 (paper)"]
    # the kernel study's trained-with accuracy sits beside the swap, its shorter run's epochs in the header
    study = trained_with("fashion-mnist")
    assert df.iloc[1]["trained with it (4 epochs, %) ↑"] == pytest.approx(100 * study["preset:design-2x2-a"]["accuracy"],
                                                                          abs=0.005)
    swapped = evaluate(model, embedded_subset(), count=200, kernel="preset:design-2x2-a", per_image=True)
    changes = swap_changes([("trained kernels", None, trained), ("DeSign 2x2 (paper)", "preset:design-2x2-a", swapped)],
                           trained_with=study)
    assert df.iloc[0]["chance ±"] == 0 and df.iloc[1]["chance ±"] == pytest.approx(100 * changes[1]["chance"], abs=0.005)
    # the Sign model, the paper's kernel swapped in: the takeaway is the library's, from these numbers
    assert swap_takeaway(changes, trained_as="Sign") in [i.value for i in at.info]
    assert (1, "accuracy (%) ↑") not in _marked(at, 0) and (0, "accuracy (%) ↑") in _marked(at, 0)


def test_accuracy_takeaway_says_the_design_model_relies_on_its_kernel():
    # Learn links here: the DeSign model with Sign swapped in loses half its accuracy, beyond chance
    at = _app("app_pages/accuracy.py", model="fashion-mnist-design", kernel="sign")
    at.select_slider(key="acc_count").set_value(2000).run()
    df = _table(at)
    assert list(df["accuracy (%) ↑"]) == [92.6, 44.8] and list(df["beyond chance"]) == ["", "yes"]
    text = next(i.value for i in at.info if i.value.startswith("Swapping"))
    assert text.startswith("Swapping Sign in breaks the network: accuracy falls from 92.60% to 44.80%")
    assert "trained for DeSign 2x2 (paper)'s thresholds" in text


def test_accuracy_page_strength_sweep():
    from dither_lab.data import embedded_subset
    from dither_lab.nn.evaluate import strength_sweep
    from dither_lab.nn.models import load_pretrained

    at = _app("app_pages/accuracy.py", model="fashion-mnist-design", kernel="preset:design-2x2-a")
    at.select_slider(key="acc_count").set_value(200).run()
    assert not any("Best: strength" in c.value for c in at.main.caption)  # nine evaluations wait for the button
    at.button(key="acc_sweep_run").click().run()
    assert not at.exception
    model, _ = load_pretrained("fashion-mnist-design")
    want = max(strength_sweep(model, embedded_subset(), "preset:design-2x2-a", count=200), key=lambda r: r["accuracy"])
    best = next(c.value for c in at.main.caption if "Best: strength" in c.value)
    assert f"strength {want['strength']:g} at {want['accuracy']:.2%}" in best
    at.select_slider(key="acc_count").set_value(500).run()  # another choice: the old sweep is not shown for it
    assert not any("Best: strength" in c.value for c in at.main.caption)


def test_accuracy_page_says_what_each_kernel_costs():
    from dither_lab.nn.cost import kernel_cost
    from dither_lab.nn.models import load_pretrained

    at = _app("app_pages/accuracy.py", kernel="bayer:4")
    cost = _table(at, 1)  # after the accuracy table
    assert list(cost["spec"]) == ["(as trained)", "bayer:4"]
    model, _ = load_pretrained(at.session_state["dl_model"])
    want = kernel_cost(model, "bayer:4")
    assert cost.iloc[1]["thresholds ↓"] == want["thresholds"] == 16 * cost.iloc[1]["Sign's"]  # fewer is better
    assert cost.iloc[1]["extra bytes ↓"] == want["extra_bytes"] and (cost["extra MACs ↓"] == 0).all()
    assert (0, "thresholds ↓") in _marked(at, 1)
    formats = {c: v.get("type_config", {}).get("format") for c, v in json.loads(at.dataframe[1].proto.columns).items()}
    assert formats["compares / image"] == formats["extra bytes ↓"] == "localized"  # 47,040 with its separator
    at.multiselect(key="acc_layers").set_value([0]).run()  # one layer takes the kernel: only its thresholds grow
    one = _table(at, 1).iloc[1]
    assert one["thresholds ↓"] == kernel_cost(model, "bayer:4", layers=[0])["thresholds"] < want["thresholds"]


def test_kernel_designer_search_shows_degenerate_optimum():
    at = _app("app_pages/kernel_designer.py")
    at.select_slider(key="des_count").set_value(200).run()
    at.selectbox(key="des_obj").set_value("tv").run()  # the paper's objective, not the default
    at.button(key="des_search").click().run()
    assert not at.exception
    ranking = _table(at)
    assert ranking.iloc[0]["rank ↓"] == 1 and ranking.iloc[0]["levels"] in ("[[0, 9], [9, 0]]", "[[9, 0], [0, 9]]")
    assert ranking.iloc[0]["note"] == "levels 0 and 9 only: a fixed pattern"
    assert any("the same pattern whatever the image" in i.value for i in at.info)
    at.button(key="des_load_best").click().run()
    assert not at.exception
    assert "levels:" in at.main.caption[-1].value


def test_feature_maps_upload_is_resized_for_the_model():
    at = _app("app_pages/feature_maps.py", kernel="bayer:2")
    at.radio(key="fm_source").set_value("upload").run()
    big = (np.random.default_rng(3).random((300, 200)) * 255).astype(np.uint8)
    at.file_uploader(key="fm_upload").upload("shirt.png", _png(big), "image/png").run()
    assert not at.exception
    assert list(_table(at)["output"]) == ["Sign", "Bayer 2x2"]  # centred: no "Sign at +0.00" row


def test_accuracy_page_learns_a_kernel_and_saves_it():
    from dither_lab.nn.learned import learned_takeaway

    at = _app("app_pages/accuracy.py", kernel="preset:design-2x2-a")
    at.select_slider(key="acc_learn_steps").set_value(20).run()
    at.button(key="acc_learn").click().run()
    assert not at.exception
    assert len(at.metric) == 3
    learned = at.session_state["acc_learned"]
    assert learned["start"] == "DeSign 2x2 (paper)" and learned["seed"] == 0
    assert learned_takeaway(learned, "DeSign 2x2 (paper)") in [i.value for i in at.info]
    assert any("same start, steps and seed it learns the same kernel again" in c.value for c in at.main.caption)
    at.button(key="acc_learn").click().run()  # a rerun from the same start: the same kernel, as the page says
    assert at.session_state["acc_learned"]["spec"] == learned["spec"]
    at.number_input(key="acc_learn_seed").set_value(1).run()
    at.button(key="acc_learn").click().run()
    assert at.session_state["acc_learned"]["seed"] == 1
    at.button(key="acc_learn_save").click().run()
    assert any("learned kernel" in s.value for s in at.success)
    at.select_slider(key="acc_learn_steps").set_value(50).run()
    at.button(key="acc_learn").click().run()
    first = at.session_state["acc_learned"]["spec"]
    at.select_slider(key="acc_learn_steps").set_value(20).run()
    at.button(key="acc_learn").click().run()  # a new run over a learned kernel not saved keeps it
    assert first in at.session_state["dl_library"].values()
    assert any("kept in the library" in i.value for i in at.info)


def test_study_page_shows_the_measured_results(monkeypatch, tmp_path):
    from dither_lab import study
    from dither_lab.ui.state import DEFAULT_LIBRARY

    at = _app("app_pages/study.py")
    assert at.title[0].value == "Kernel study"
    # it opens with its finding: the sentence and the pairs, computed from the campaigns
    found = study.finding("fashion-mnist")
    assert at.info[0].value == found["text"] and at.main.subheader[0].value == "Where DeSign helped"
    pairs = _table(at, 0)
    assert list(pairs["beyond chance"]) == ["no", "no", "yes, DeSign ahead"]
    assert list(pairs["DeSign − Sign (points)"]) == [round(p["difference"], 2) for p in found["pairs"]]
    assert (2, "DeSign (%) ↑") in _marked(at, 0) and (2, "Sign (%) ↑") not in _marked(at, 0)  # the higher of a pair
    first = _table(at, 1)
    long = study.first_study(study.load_results("campaign_long", "fashion-mnist"))
    assert first["test accuracy (%) ↑"].iloc[0] == round(100 * long[0]["mean"], 2)
    comp = study.load_results("kernel_study", "fashion-mnist")
    kernels = _table(at, 2)
    names = {spec: name for name, spec in DEFAULT_LIBRARY.items()}  # one name per kernel: the library's where it has one
    assert list(kernels["kernel"]) == [names.get(r["spec_on_design_model"], r["label"]) for r in comp["rows"]]
    assert "DeSign 2x2 (paper)" in list(kernels["kernel"]) and "Bayer 2x2" in list(kernels["kernel"])
    assert list(kernels.columns) == ["kernel", "Sign model (%) ↑", "DeSign model (%) ↑", "trained with it (4 epochs, %) ↑"]
    detail = _table(at, 3)  # the feature-map metrics in a table of their own, so each fits the page
    assert list(detail.columns) == ["kernel", "PSNR (dB) ↑", "SSIM ↑", "TV ratio → 1"]
    assert list(detail["kernel"]) == list(kernels["kernel"])
    best_tv = int((detail["TV ratio → 1"] - 1).abs().idxmin())
    assert (best_tv, "TV ratio → 1") in _marked(at, 3)
    assert study.kernel_takeaway(comp, names=names) in [i.value for i in at.info]
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(at.get("plotly_chart")) == 1 and chart["data"][0]["customdata"] == list(kernels["kernel"])
    assert sorted(first.loc[first["shipped"] == "yes", "activation"]) == ["DeSign 2x2", "Sign"]
    at.radio(key="study_ds").set_value("cifar10").run()
    cifar = _table(at, 1)
    assert not at.exception and "resnet" not in str(cifar.columns)
    assert at.info[0].value == study.finding("cifar10")["text"] and "unit" in _table(at, 0).columns
    shipped = cifar[cifar["shipped"] == "yes"]  # matched to the shipped models' cards, whichever campaign made them
    assert list(shipped.index) == [0, 1] and set(shipped["ResNet-20 unit"]) == {"bn-prelu"}
    assert {"plain", "bn-prelu"} <= set(cifar["ResNet-20 unit"])
    assert "spread (sd, points)" in first.columns and "spread (sd, points)" not in cifar.columns  # one seed each
    assert "trained with it (12 epochs, %) ↑" in _table(at, 2).columns
    assert all(t.proto.placeholder == widgets.MISSING for t in at.dataframe)  # a gap reads as a dash, not None
    monkeypatch.setattr(study, "results_dir", lambda: tmp_path)  # no results: the page says how to make them
    at = _app("app_pages/study.py")
    assert any("scripts/campaign.py" in i.value for i in at.info)
    (tmp_path / "kernel_study_fashion-mnist.json").write_text("{broken")
    at = _app("app_pages/study.py")
    assert "not valid JSON" in at.error[0].value


def test_cifar_models_on_feature_maps_and_accuracy(monkeypatch, tmp_path, cifar_tree):
    from dither_lab.data import load_dataset
    from dither_lab.nn.evaluate import evaluate
    from dither_lab.nn.models import load_pretrained
    from dither_lab.ui import cached

    monkeypatch.setenv("DITHER_LAB_DATA", str(tmp_path))  # no CIFAR-10 here: the pages say what is missing
    cached.eval_set.clear()
    at = _app("app_pages/feature_maps.py", model="cifar10-design", kernel="bayer:2")
    assert at.radio(key="fm_source").value == "sample photo"  # no held-out CIFAR-10 images are shipped
    hint = next(c.value for c in at.main.caption if "CIFAR-10" in c.value)  # one short line, the one command
    assert "`dither-lab data download cifar10`" in hint and str(tmp_path) in hint and len(hint) < 250
    df = _table(at)
    at.selectbox(key="fm_photo").set_value("coffee").run()
    assert not at.exception and not _table(at).equals(df)

    at = _app("app_pages/accuracy.py", model="cifar10-sign", kernel="bayer:2")
    warning = at.warning[0].value  # one line: the command that gets the images, or where the archive goes
    assert "`dither-lab data download cifar10`" in warning and str(tmp_path) in warning and "reload" in warning
    assert [b.key for b in at.button] == ["acc_time"]  # timing needs no test images; learning does
    assert list(_table(at)["spec"]) == ["(as trained)", "bayer:2"]  # what the kernels cost needs no test images
    (tmp_path / "cifar10-jpg.tar.gz").write_bytes(b"not an archive")  # there but unreadable: the reason is said
    cached.eval_set.clear()
    at = _app("app_pages/accuracy.py", model="cifar10-sign", kernel="bayer:2")
    assert "damaged" in at.warning[0].value
    (tmp_path / "cifar10-jpg.tar.gz").unlink()
    cifar_tree(tmp_path / "cifar10")
    try:
        at = _app("app_pages/accuracy.py", model="cifar10-sign", kernel="bayer:2")
        at.select_slider(key="acc_count").set_value(200).run()
        assert not at.exception
        model, _ = load_pretrained("cifar10-sign")
        expected = evaluate(model, load_dataset("cifar10", "test"))
        assert _table(at).iloc[0]["accuracy (%) ↑"] == pytest.approx(100 * expected["accuracy"]) and expected["count"] == 20
        at = _app("app_pages/feature_maps.py", model="cifar10-design")  # now with held-out CIFAR-10 images
        assert at.radio(key="fm_source").value == "held-out image"
    finally:
        cached.eval_set.clear()


def test_kernel_designer_local_and_3d_search():
    from dither_lab.data import embedded_subset
    from dither_lab.design import DEFAULT_OBJECTIVE, gray_images, local_search, simulate_responses, tiled_start

    at = _app("app_pages/kernel_designer.py")
    at.select_slider(key="des_count").set_value(200).run()
    at.radio(key="des_size").set_value(4).run()
    at.button(key="des_search").click().run()
    assert not at.exception
    starts = _table(at)
    assert len(starts) == 9  # the tiled 2x2 optimum and 8 random starts
    levels = simulate_responses(gray_images(embedded_subset().images[:200]))
    expected = local_search(levels, 4, 4, objective=DEFAULT_OBJECTIVE, restarts=8, seed=0,
                            init=tiled_start(levels, 4, 4, objective=DEFAULT_OBJECTIVE))
    assert starts["score ↓"].min() == pytest.approx(expected["best"][0]["score"])  # lower is better: TV matched
    at.radio(key="des_size").set_value(2).run()
    at.radio(key="des_slices").set_value(2).run()
    assert not at.exception
    slices = _table(at)
    assert list(slices["slice"]) == [0, 1] and list(slices["channels"]) == ["[0, 2]", "[1, 3]"]
    at.button(key="des_load_beyond").click().run()
    assert not at.exception
    assert at.number_input(key=f"des_f_{at.session_state['des_editor_version']}").value == 2
    assert "|" in at.main.caption[-1].value  # the spec of a 3-D kernel


def test_kernel_designer_generator_panel_stays_open_and_shows_the_editors_kernel():
    # The panel opened on a first visit only (until the editor held a kernel), so the first change inside it
    # closed it and hid "Load into the editor"; and a link that opened blue noise 16x16 in the editor left the
    # panel on Bayer 4.
    at = _app("app_pages/kernel_designer.py", kernel="blue-noise:16")
    panel = next(e for e in at.expander if e.label == "Start from a generator")
    assert panel.proto.expanded
    assert at.selectbox(key="des_gen").value == "blue-noise" and at.select_slider(key="des_blue-noise_size").value == 16
    at.select_slider(key="des_blue-noise_size").set_value(8).run()
    panel = next(e for e in at.expander if e.label == "Start from a generator")
    assert panel.proto.expanded and at.button(key="des_load")
    assert any("Load into the editor replaces it" in c.value for c in at.caption)  # the panel no longer shows it
    at.button(key="des_load").click().run()
    assert at.session_state["dl_designer"]["values"].shape == (1, 8, 8)
    assert not any("Load into the editor replaces it" in c.value for c in at.caption)
    version = at.session_state["des_editor_version"]
    at.select_slider(key="des_count").set_value(200).run()  # a search result loaded into the editor: no generator
    at.button(key="des_search").click().run()
    at.button(key="des_load_best").click().run()
    assert at.session_state["des_editor_version"] == version + 1 and at.selectbox(key="des_gen").value == "blue-noise"
    assert any("which no generator here makes" in c.value for c in at.caption)
    at.query_params["kernel"] = "cluster-dot:8:strength=0.5"
    at.switch_page("app_pages/image_lab.py").run()
    at.switch_page("app_pages/kernel_designer.py").run()
    at.selectbox(key="des_gen").set_value("current").run()
    at.button(key="des_load").click().run()  # loading the current kernel shows its generator and size
    assert at.selectbox(key="des_gen").value == "cluster-dot" and at.select_slider(key="des_cluster-dot_size").value == 8
    assert at.slider(key="des_cluster-dot_strength").value == 0.5


def test_feature_maps_draws_the_one_kernel_chosen_everywhere():
    # The kernel field took several kernels and every view drew only the first; it takes one now, and the panels,
    # the mosaic and the per-layer table all use it
    at = _app("app_pages/feature_maps.py", kernel="bayer:2")
    choice = at.selectbox(key="fm_kernel")
    assert choice.value == "Bayer 2x2"
    choice.set_value("DeSign 2x2 (paper)").run()
    assert not at.exception
    mosaic = next(c.value for c in at.main.caption if "to a row from the top left" in c.value)
    assert "with DeSign 2x2 (paper)" in mosaic
    assert "+1s: DeSign 2x2 (paper) (%)" in list(at.dataframe[-1].value.columns)
    assert "DeSign 2x2 (paper)" in list(_table(at)["output"])
    assert at.session_state["dl_kernel"] == "preset:design-2x2-a"  # the kernel in use, for the next page too


def test_a_failed_upload_keeps_the_chosen_kernel():
    at = _app("app_pages/feature_maps.py", kernel="bayer:2")
    at.selectbox(key="fm_kernel").set_value("Blue noise 64").run()
    at.radio(key="fm_source").set_value("upload").run()
    at.file_uploader(key="fm_upload").upload("notes.png", b"not an image", "image/png").run()
    assert not at.exception and any("not a readable image" in e.value for e in at.error)
    ramp = (np.tile(np.linspace(0, 255, 28), (28, 1))).astype(np.uint8)
    at.file_uploader(key="fm_upload").upload("ramp.png", _png(ramp), "image/png").run()
    assert not at.exception
    assert at.selectbox(key="fm_kernel").value == "Blue noise 64"
    assert at.session_state["dl_kernel"] == "blue-noise:64"


def test_learn_formula_shows_the_threshold_chosen():
    at = _app("app_pages/learn.py")
    assert r"t = 0.50" in at.latex[0].value
    at.slider(key="learn_t").set_value(0.25).run()
    assert r"t = 0.25" in at.latex[0].value and "0.50" not in at.latex[0].value


def test_binary_layers_are_numbered_from_0_as_the_cli_does():
    # The app numbered binary layers from 1, the CLI's --layers and maps --layer from 0
    from dither_lab.nn.models import binary_layers, load_pretrained

    names = list(binary_layers(load_pretrained("fashion-mnist-sign")[0]))
    at = _app("app_pages/feature_maps.py", model="fashion-mnist-sign")
    # named for people beside the index and the module: "2 · conv 3: 64 channels, 14x14 (features.5)"
    sizes = ["32 channels, 28x28", "32 channels, 14x14", "64 channels, 14x14", "64 channels, 7x7"]
    labels = [f"{i} · conv {i + 1}: {size} ({n})" for i, (n, size) in enumerate(zip(names, sizes, strict=True))]
    assert at.selectbox(key="fm_layer").options == labels
    assert list(at.dataframe[-1].value["layer"]) == [f"{i}: conv {i + 1}" for i in range(4)]
    at.switch_page("app_pages/accuracy.py").run()
    assert at.multiselect(key="acc_layers").options == labels


def test_feature_maps_keeps_its_image_layer_and_channel_while_not_drawn():
    # Switching the input to a sample photo and back, or visiting another page, reset the image index, the layer
    # and the channel: Streamlit forgets the value of a widget a run does not draw
    at = _app("app_pages/feature_maps.py", model="fashion-mnist-sign")
    at.slider(key="fm_index").set_value(7).run()
    at.selectbox(key="fm_layer").set_value("features.5").run()
    at.number_input(key="fm_channel").set_value(40).run()
    at.radio(key="fm_source").set_value("sample photo").run()
    at.radio(key="fm_source").set_value("held-out image").run()
    assert at.slider(key="fm_index").value == 7
    at.switch_page("app_pages/accuracy.py").run()
    at.switch_page("app_pages/feature_maps.py").run()
    assert not at.exception
    assert (at.radio(key="fm_source").value, at.slider(key="fm_index").value) == ("held-out image", 7)
    assert (at.selectbox(key="fm_layer").value, at.number_input(key="fm_channel").value) == ("features.5", 40)
    at.selectbox(key="fm_layer").set_value("features.0").run()  # 32 channels: channel 40 is past the last
    assert not at.exception and at.number_input(key="fm_channel").value == 31


def test_feature_maps_opens_the_layer_channel_and_image_a_link_names():
    at = _app("app_pages/feature_maps.py", model="fashion-mnist-design", kernel="preset:design-2x2-a",
              layer="2", channel="5", index="7")
    assert at.selectbox(key="fm_layer").value == "features.5" and at.number_input(key="fm_channel").value == 5
    assert (at.radio(key="fm_source").value, at.slider(key="fm_index").value) == ("held-out image", 7)
    at.number_input(key="fm_channel").set_value(9).run()  # the view has left the link's channel: the URL too
    assert "channel" not in at.query_params and at.query_params["layer"] in ("2", ["2"])
    at.radio(key="fm_source").set_value("sample photo").run()
    assert "index" not in at.query_params
    at.query_params["channel"] = "5"  # the same link followed again applies again
    at.run()
    assert at.number_input(key="fm_channel").value == 5
    at = _app("app_pages/feature_maps.py", model="fashion-mnist-design", layer="features.8", channel="99")
    assert at.selectbox(key="fm_layer").value == "features.8" and at.number_input(key="fm_channel").value == 0
    assert any("The link's channel was not used: '99' is not a channel of layer 3: give 0 to 63" in w.value
               for w in at.warning)
    assert not at.exception


def test_tables_mark_no_best_among_equals():
    # "extra MACs" is 0 for every kernel, and a column with one value has nothing to compare: neither has a best
    at = _app("app_pages/accuracy.py", model="fashion-mnist-design", kernel="bayer:4")
    marked = _marked(at, 1)
    assert not any(col == "extra MACs ↓" for _, col in marked) and (0, "thresholds ↓") in marked


def test_accuracy_runs_on_the_packed_engine_and_times_it_against_float():
    at = _app("app_pages/accuracy.py", kernel="bayer:4")
    at.select_slider(key="acc_count").set_value(200).run()
    assert not at.exception and not any("the packed 1-bit engine took" in m.value for m in at.markdown)
    at.toggle(key="acc_float").set_value(True).run()  # the float model runs on request only
    said = next(m.value for m in at.markdown if "the packed 1-bit engine took" in m.value)
    assert "with the same prediction on every image" in said and "(lower is better): the packed engine ran" in said
    at.button(key="acc_time").click().run()
    assert not at.exception
    timing = next(d.value for d in at.dataframe if "packed (ms / image) ↓" in d.value.columns)
    assert list(timing["kernel"]) == ["trained kernels", "Bayer 4x4", "Sign (against itself)"]
    assert "spec" not in timing.columns
    floor = timing.iloc[2]  # the run's noise floor, said in the caption
    assert any(f"came out at {floor['float / Sign']:.2f} on float and {floor['packed / Sign']:.2f} packed" in c.value
               for c in at.main.caption)
    i = next(i for i, d in enumerate(at.dataframe) if "packed (ms / image) ↓" in d.value.columns)
    marked = {col for _, col in _marked(at, i)}
    assert "packed program (bytes) ↓" in marked and not [c for c in marked if "ms / image" in c]  # noise: no best
    at.multiselect(key="acc_layers").set_value([0]).run()  # other layers: the old timings are not shown as theirs
    assert not at.exception and not any("packed (ms / image) ↓" in d.value.columns for d in at.dataframe)
    assert (timing["packed program (bytes) ↓"] > 0).all() and (timing["packed speedup ↑"] > 0).all()


def test_learn_shows_the_executed_cost_of_a_kernel():
    at = _app("app_pages/learn.py")
    said = next(m.value for m in at.markdown if m.value.startswith("Executed, not just counted"))
    assert "ms** with its kernel" in said and "ms with Sign in its place: a ratio of **" in said
    assert "times as fast as the same network in float32 PyTorch" in said


def test_a_kernel_learned_in_another_model_is_not_shown_as_this_ones():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["model"] = "fashion-mnist-design"
    at.session_state["acc_learned"] = {"model": "fashion-mnist-sign", "spec": "custom:0.1,0.2;0.3,0.4",
                                       "trained": 0.9, "before": 0.8, "after": 0.85}
    at.run()
    at.switch_page("app_pages/accuracy.py").run()
    assert not at.exception
    assert any("belongs to fashion-mnist-sign" in c.value for c in at.main.caption)
    assert not any(m.label == "learned kernel ↑" for m in at.metric)  # no figures of the other model


def test_page_settings_survive_a_visit_to_another_page():
    at = _app()
    at.radio(key="lab_scale").set_value(2).run()
    at.multiselect(key="lab_diffusion").set_value(["floyd-steinberg"]).run()
    at.switch_page("app_pages/accuracy.py").run()
    at.select_slider(key="acc_count").set_value(200).run()
    at.switch_page("app_pages/kernel_designer.py").run()
    at.radio(key="des_size").set_value(3).run()
    at.switch_page("app_pages/image_lab.py").run()
    assert not at.exception
    assert at.radio(key="lab_scale").value == 2 and at.multiselect(key="lab_diffusion").value == ["floyd-steinberg"]
    at.switch_page("app_pages/accuracy.py").run()
    assert at.select_slider(key="acc_count").value == 200
    at.switch_page("app_pages/kernel_designer.py").run()
    assert at.radio(key="des_size").value == 3


def test_tables_mark_every_value_that_ties_for_best():
    def page():
        from dither_lab.ui import widgets

        widgets.metric_table([{"output": "a", "x": 0.5, "y": 2.0, "z": 0.95, "w": 1.0},
                              {"output": "b", "x": 0.5, "y": 1.0, "z": 1.05, "w": 1.0},
                              {"output": "c", "x": 0.25, "y": 1.0, "z": 1.2, "w": 1.0}],
                             better={"x": "higher", "y": "lower", "z": "near 1", "w": "near 1"})

    at = AppTest.from_function(page, default_timeout=60)
    at.run()
    assert not at.exception
    # 0.95 and 1.05 are as near 1; a column where all tie has no best
    assert _marked(at, 0) == {(0, "x"), (1, "x"), (1, "y"), (2, "y"), (0, "z"), (1, "z")}
