"""The kernel designer: the search's default objective, its comparison with the paper's kernels of the searched size,
a constant kernel said to be Sign moved, and the takeaways computed from the numbers."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dither_lab.design import DEFAULT_OBJECTIVE, OBJECTIVE_LABELS, TABLE_OBJECTIVES
from dither_lab.imaging.preview import kernel_preview, kernel_takeaway

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _designer(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("app_pages/kernel_designer.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _panel_titles(at: AppTest) -> list[str]:
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "des_search_panels" in c.proto.id)
    return [a["text"] for a in spec["layout"]["annotations"]]


def test_the_search_defaults_to_local_tone_and_its_winner_dithers():
    at = _designer()
    objective = at.selectbox(key="des_obj")
    assert objective.value == DEFAULT_OBJECTIVE
    assert objective.options == [OBJECTIVE_LABELS[o] for o in TABLE_OBJECTIVES]
    at.select_slider(key="des_count").set_value(200).run()
    at.button(key="des_search").click().run()
    assert not at.exception
    said = next(i.value for i in at.info if i.value.startswith("By local tone against the response (lower is better)"))
    assert "It is constant" not in said and "design-2x2-a" in said
    ranking = at.dataframe[0].value
    assert "note" not in ranking.columns and "score ↓" in ranking.columns  # no degenerate kernel: no empty column
    at.button(key="des_load_best").click().run()  # loaded into the editor: a dither, so no "Sign moved" warning
    assert not at.exception and not any("Sign moved" in w.value for w in at.warning)
    assert any("thresholds run from" in i.value for i in at.info)


def test_a_pixel_by_pixel_objective_is_won_by_sign_moved_and_the_page_says_so():
    at = _designer()
    at.select_slider(key="des_count").set_value(200).run()
    at.selectbox(key="des_obj").set_value("tv_match").run()
    at.button(key="des_search").click().run()
    assert not at.exception
    said = next(i.value for i in at.info if i.value.startswith("By TV matched to the response (lower is better)"))
    assert "It is constant" in said and "design-2x2-a" in said
    ranking = at.dataframe[0].value
    assert ranking.iloc[0]["note"] == "constant: Sign moved"
    at.button(key="des_load_best").click().run()  # loaded into the editor: a warning says what it is
    warning = next(w.value for w in at.warning)
    assert warning.startswith("Every threshold is 1.335: this kernel is Sign moved by 1.335, not a dither")
    assert any("no power at any frequency" in c.value for c in at.main.caption)  # no spectrum drawn for a flat map
    at.button(key="des_load_varying").click().run()
    assert not at.exception and not any("Sign moved" in w.value for w in at.warning)


def test_a_3x3_search_compares_with_the_papers_3x3_kernels():
    at = _designer()
    at.select_slider(key="des_count").set_value(200).run()
    at.radio(key="des_size").set_value(3).run()
    at.selectbox(key="des_obj").set_value("correlation").run()
    at.button(key="des_search").click().run()
    assert not at.exception
    titles = _panel_titles(at)
    assert [t for t in titles if "(paper)" in t] == ["design-3x3-a (paper)", "design-3x3-b (paper)",
                                                     "design-3x3-c (paper)"]
    kernels = list(at.dataframe[0].value["kernel"])
    assert "design-3x3-a (paper)" in kernels and not any("2x2" in k for k in kernels)
    assert "score ↑" in at.dataframe[0].value.columns  # correlation: higher is better
    said = next(i.value for i in at.info if i.value.startswith("By correlation with the response (higher is better)"))
    assert "all 10,077,696 3x3 kernels" in said and "design-3x3-b" in said


def test_the_preview_says_what_the_kernels_thresholds_do():
    at = _designer(kernel="preset:design-2x2-a")
    assert kernel_takeaway(kernel_preview("preset:design-2x2-a")) in [i.value for i in at.info]
    at.selectbox(key="des_gen").set_value("constant").run()
    at.slider(key="des_constant_value").set_value(0.5).run()
    at.button(key="des_load").click().run()
    assert not at.exception
    assert any(w.value.startswith("Every threshold is 0.5: this kernel is Sign moved by 0.5") for w in at.warning)
    at.selectbox(key="des_gen").set_value("sign").run()
    at.button(key="des_load").click().run()
    assert not at.warning and any("this is plain Sign" in i.value for i in at.info)


def test_a_name_typed_before_the_first_edit_stays():
    at = _designer()
    field = next(t for t in at.text_input if t.key.startswith("des_name_"))
    field.set_value("my dither").run()
    at.number_input(key=next(n.key for n in at.number_input if n.key.startswith("des_rows_"))).increment().run()  # an edit
    assert not at.exception
    assert next(t for t in at.text_input if t.key.startswith("des_name_")).value == "my dither"
