import numpy as np

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
