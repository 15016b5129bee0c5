import numpy as np
import pytest

from dither_lab.ui import plots


def test_side_by_side_frames_each_image_on_its_edge():
    # White areas of a binary image vanish into a white page without a frame (a thresholded ramp looked half as
    # wide as the ramp); the frame must sit on each image's own edge, whatever form the image comes in.
    gray = np.linspace(0, 1, 7 * 12).reshape(7, 12)
    color = np.zeros((3, 5, 9), dtype=np.float32)
    uri = plots.data_uri(np.ones((4, 6), dtype=np.float32))  # all white: invisible without its frame
    fig = plots.side_by_side([("gray", gray), ("colour", color), ("white", uri)])
    frames = [(s["xref"], s["x1"] + 0.5, s["y1"] + 0.5) for s in fig["layout"]["shapes"]]
    assert frames == [("x", 12, 7), ("x2", 9, 5), ("x3", 6, 4)]
    assert [t["xaxis"] for t in fig["data"]] == ["x", "x2", "x3"]


def test_side_by_side_scale_opens_every_panel_at_whole_screen_pixels_per_image_pixel():
    img = np.zeros((300, 500), dtype=np.float32)
    fit = plots.side_by_side([("a", img), ("b", img)], height=420)
    assert "range" not in fit["layout"]["yaxis"]  # fit: plotly sizes the images to the panels
    fig = plots.side_by_side([("a", img), ("b", img)], height=420, scale=4)
    plot_px = 420 - 40 - 10  # the figure's height less its top and bottom margins
    for sfx in ("", "2"):
        y, x = fig["layout"][f"yaxis{sfx}"], fig["layout"][f"xaxis{sfx}"]
        top, bottom = y["range"][1], y["range"][0]
        assert bottom - top == plot_px / 4  # 4 screen pixels an image pixel, down the panel
        assert (top + bottom) / 2 == 149.5 and sum(x["range"]) / 2 == 249.5  # on the image's centre
        # x starts narrower than y, so plotly widens x (constrain="range"), never the y that sets the scale
        assert x["range"][1] - x["range"][0] < bottom - top and x["constrain"] == y["constrain"] == "range"
    with pytest.raises(ValueError, match="scale"):
        plots.side_by_side([("a", img)], scale=0)


def test_spectra_floor_zero_power_near_the_peak_and_label_whole_decades():
    f = np.linspace(0, 0.5, 5)
    periodic = np.array([0.0, 0.0, 0.0, 0.0, 2.0])  # a 2x2 kernel map: all power at 0.5 cycles/pixel
    fig = plots.spectra([("map", f, periodic)])
    assert list(fig.data[0].y) == [2e-8] * 4 + [2.0]  # zero drawn 8 decades down, not at the float floor
    assert fig.layout.yaxis.dtick == 2 and fig.layout.yaxis.exponentformat == "power"
    narrow = plots.spectra([("a", f, np.array([0.01, 0.1, 1.0, 2.0, 0.5]))])
    assert narrow.layout.yaxis.dtick == 1


def test_grouped_bars_draw_accuracy_in_percent_and_no_bar_for_missing():
    fig = plots.grouped_bars(["a", "b"], {"swapped": [0.5, 0.925], "trained with": [None, 0.8]})
    assert list(fig.data[0].y) == [50.0, 92.5] and list(fig.data[1].y) == [None, 80.0]
    assert tuple(fig.layout.yaxis.range) == (0, 100)


def test_side_by_side_auto_scale_shows_large_images_pixel_for_pixel_and_fits_small_ones():
    large, small = np.zeros((300, 400), dtype=np.float32), np.zeros((64, 64), dtype=np.float32)
    auto = plots.side_by_side([("a", large)], scale="auto")
    assert auto["layout"]["yaxis"]["range"] == plots.side_by_side([("a", large)], scale=1)["layout"]["yaxis"]["range"]
    assert "range" not in plots.side_by_side([("a", small)], scale="auto")["layout"]["yaxis"]
    with pytest.raises(ValueError, match="auto"):
        plots.side_by_side([("a", small)], scale="big")


def test_histogram_spans_every_value_and_line_with_a_margin():
    # a 2x2 kernel is all extremes: its largest threshold's bar must not sit on the plot's edge
    fig = plots.histogram(np.array([0.3118, 0.631, 0.631, 0.9671]), thresholds=[("Sign", 0.0)], x_title="t")
    lo, hi = fig.layout.xaxis.range
    assert lo < 0.0 and hi > 0.9671 and fig.layout.xaxis.title.text == "t"
    lo, hi = plots.histogram(np.full(4, 2.0)).layout.xaxis.range  # one value: a margin all the same
    assert lo < 2.0 < hi


def test_heatmap_of_a_large_map_draws_no_stray_ticks_or_grid():
    big, small = plots.heatmap(np.zeros((32, 32))), plots.heatmap(np.zeros((4, 4)))
    assert big.layout.xaxis.ticks == "" and big.layout.yaxis.showgrid is False and not big.layout.xaxis.showticklabels
    assert small.layout.xaxis.showticklabels


def test_table_columns_write_one_number_of_decimals():
    from dither_lab.ui.widgets import decimal_places

    assert decimal_places([92.7, 88.54, 10.0]) == 2
    assert decimal_places([0.123456, 1.5]) == 4  # at most four
    assert decimal_places([3.0, float("nan")]) == 0


def test_score_histogram_keeps_close_labels_apart():
    fig = plots.score_histogram([3, 40, 1], [0.0, 0.5, 1.0, 1.5], {"a": 0.45, "b": 0.19, "c": 0.18})
    heights = {a.text: a.y for a in fig.layout.annotations}
    assert len(set(heights.values())) == 3  # neighbouring marks on different lines: the paper's 3x3 kernels
    assert {a.x for a in fig.layout.annotations} == {0.45, 0.19, 0.18}  # collided on one when alternated sides
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.type == "log"


def test_side_by_side_wraps_many_panels_into_rows_of_equal_panels():
    img = np.zeros((300, 500), dtype=np.float32)
    panels = [(f"Jarvis-Judice-Ninke diffusion, serpentine {i}", img) for i in range(6)]  # long: shortened
    fig = plots.side_by_side(panels, height=420, scale=2)
    layout = fig["layout"]
    panel_px = 420 - 40 - 10
    assert layout["height"] == 2 * panel_px + plots.ROW_TITLE_PX + 50  # two rows, each as tall as one alone
    plot_px = layout["height"] - 50
    domains = [layout[f"yaxis{'' if i == 0 else i + 1}"]["domain"] for i in range(6)]
    assert all((d[1] - d[0]) * plot_px == pytest.approx(panel_px) for d in domains)
    assert domains[0] == domains[3] and domains[4][1] < domains[0][0]  # 4 in the first row, 2 in the second
    # the same 2 screen pixels an image pixel in every panel: the window is the single row's
    assert layout["yaxis5"]["range"] == plots.side_by_side(panels[:1], height=420, scale=2)["layout"]["yaxis"]["range"]
    notes = layout["annotations"]
    assert [n["y"] for n in notes] == [1.0] * 4 + [domains[4][1]] * 2  # each title above its own panel
    assert all(n["text"].endswith("…") and n["hovertext"] == t for n, (t, _) in zip(notes, panels, strict=True))
    assert "hovertext" not in plots.side_by_side([("Sign", img)])["layout"]["annotations"][0]


def test_text_columns_are_as_wide_as_their_longest_text():
    from dither_lab.ui.widgets import text_width

    assert text_width(["output", "Floyd-Steinberg diffusion"]) > text_width(["output", "Sign"])
    assert text_width(["x" * 500]) == 360  # a very long one is capped and scrolls


def test_threshold_histogram_keeps_the_data_visible():
    # Dozens of full-height dashed lines (one per threshold of a blue-noise kernel) hid the histogram, and one bar
    # of a flat background flattened every other one
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.normal(0, 1, 500), np.full(3000, 0.01)])
    fig = plots.threshold_histogram(values, thresholds=np.linspace(-1.5, 1.5, 64), shift=None)  # a centred kernel
    bars = fig.data[0]
    assert bars.type == "bar" and sum(bars.y) == values.size
    second = sorted(bars.y)[-2]
    assert fig.layout.yaxis.range[1] == pytest.approx(1.4 * second) and 1.4 * second < max(bars.y)  # the tall bar cut
    assert [a.text for a in fig.layout.annotations] == [f"{max(bars.y):,} ↑"] and max(bars.y) >= 3000  # its count said
    shapes = fig.layout.shapes
    bands = [s for s in shapes if s.type == "rect"]
    assert len(bands) == 1 and (bands[0].x0, bands[0].x1) == (-1.5, 1.5)  # one band for 64 thresholds
    assert [s.layer for s in bands] == ["below"]
    assert len([s for s in shapes if s.type == "line"]) == 1  # Sign's line; no tick per threshold past 16
    few = plots.threshold_histogram(values, thresholds=[0.3118, 0.631, 0.9671], shift=0.64)
    ticks = [s for s in few.layout.shapes if s.type == "line" and s.yref == "paper" and s.y1 < 0.1]
    assert sorted(s.x0 for s in ticks) == [0.3118, 0.631, 0.9671]  # a short tick at each, not a line across
    names = [t.name for t in few.data if t.type == "scatter"]
    assert names == ["kernel's thresholds", "Sign's threshold (0)", "kernel mean (+0.64)"]  # a legend, not labels


def test_channel_mosaic_points_carry_the_channel_at_each_tiles_centre():
    from dither_lab.nn.feature_maps import layer_mosaic

    bn = np.random.default_rng(1).normal(0, 1, (10, 5, 6)).astype(np.float32)
    mos = layer_mosaic(bn, "bayer:2")  # 10 channels, 4 to a row, tiles 5 x 6 with one pixel between
    fig = plots.channel_mosaic([("real", mos["shown"]["real"]), ("Sign", mos["shown"]["Sign"])], grid=mos["grid"],
                               tile=mos["tile"], channels=mos["channels"], current=6)
    points = [t for t in fig["data"] if t["type"] == "scatter"]
    assert [p["yaxis"] for p in points] == ["y", "y2"] and points[0]["customdata"] == list(range(10))
    # channel 6: row 1, column 2 -> rows 6..10, columns 14..19 of the montage
    assert (points[0]["x"][6], points[0]["y"][6]) == (14 + 2.5, 6 + 2)
    assert (mos["shown"]["real"][6:11, 13] == 0.5).all() and (mos["shown"]["real"][11, 14:20] == 0.5).all()  # gaps
    frames = [s for s in fig["layout"]["shapes"] if s["line"].get("color") == plots.KERNEL_COLOR]
    assert len(frames) == 2 and (frames[0]["x0"], frames[0]["x1"], frames[0]["y0"], frames[0]["y1"]) == (13.5, 19.5, 5.5, 10.5)
    assert fig["layout"]["hoverdistance"] == -1  # a click anywhere on a tile picks its centre's point
    assert all(p["marker"]["opacity"] == 0 for p in points)


def test_align_top_and_horizontal_bars():
    fig = plots.align_top(plots.side_by_side([("a", np.zeros((4, 4))), ("b", np.zeros((4, 4)))]))
    assert fig["layout"]["yaxis"]["constraintoward"] == fig["layout"]["yaxis2"]["constraintoward"] == "top"
    bars = plots.grouped_hbars(["Sign", "a kernel with a very long name indeed, [[1,2],[3,4]]"],
                               {"swapped": [0.9, None], "trained": [0.88, 0.87]})
    assert list(bars.data[0].x) == [90.0, None] and bars.data[0].orientation == "h"
    assert bars.data[0].y[1] == "a kernel with a very long nam…" and bars.data[0].customdata[1].endswith("[3,4]]")
