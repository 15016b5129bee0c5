"""Plotly figures for the pages (no computation beyond drawing)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dither_lab.io import image_png_bytes

LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}}


def data_uri(image: np.ndarray) -> str:
    """A core-layout image as a PNG data URI (uint8, fast compression)."""
    return "data:image/png;base64," + base64.b64encode(image_png_bytes(image, compress_level=1)).decode()


#: ``scale="auto"`` shows images larger than this (pixels, either side) at 1:1 and fits smaller ones, which a
#: panel of a wide page then draws larger than their pixels.
AUTO_FIT_MAX = 256


#: At most this many panels to a row; more start another row (eight panels in one row left each a sliver).
PANELS_PER_ROW = 4
#: Room for the titles of the rows after the first (pixels).
ROW_TITLE_PX = 30


def side_by_side(panels: Sequence[tuple[str, np.ndarray | str]], *, height: int = 420,
                 scale: int | str | None = None, per_row: int = PANELS_PER_ROW) -> dict:
    """Images (title, core-layout array or a ready :func:`data_uri`) side by side with linked pan and zoom.

    Images travel as PNG (uint8), not as numbers, so large images stay light in the browser. The figure is built
    as a plain plotly dict (no per-call validation), which ``st.plotly_chart`` takes as it is. Up to ``per_row``
    panels share a row; more wrap onto further rows of the same height (``height`` is one row's), and a title
    too long for a narrow panel is shortened (the whole title shows on hover).

    ``scale=None`` fits each image to its panel. A fitted large image is drawn smaller than its pixels, and a
    dither pattern then aliases into moiré that is not in the image; an integer ``scale`` instead opens the panels
    on the centre of the first image at exactly that many screen pixels per image pixel (drawn as blocks).
    ``"auto"`` is 1 for a first image larger than :data:`AUTO_FIT_MAX` pixels and fit for a smaller one.
    """
    n = len(panels)
    cols = max(1, min(n, per_row))
    rows = max(1, -(-n // cols))
    gap = 0.01
    width = (1 - gap * (cols - 1)) / cols
    margin = {"l": 10, "r": 10, "t": 40, "b": 10}
    panel_px = height - margin["t"] - margin["b"]  # every row's panels are as tall as a single row's
    plot_px = rows * panel_px + (rows - 1) * ROW_TITLE_PX
    data, layout = [], {"height": plot_px + margin["t"] + margin["b"], "dragmode": "pan", "margin": margin,
                        "annotations": [], "plot_bgcolor": "rgba(0,0,0,0)", "paper_bgcolor": "rgba(0,0,0,0)"}
    layout["shapes"] = []
    if scale == "auto":
        scale = 1 if panels and max(_image_size(panels[0][1])) > AUTO_FIT_MAX else None
    if scale is not None and (isinstance(scale, str) or scale < 1):
        raise ValueError(f"scale must be None (fit), 'auto' or a whole number of screen pixels per image pixel >= 1, "
                         f"got {scale!r}")
    window = None
    if scale is not None and panels:
        h, w = _image_size(panels[0][1])
        half = panel_px / (2 * scale)  # image pixels from the centre to a panel's edge
        # y sets the scale: x gets a narrower window, so plotly widens x (not y) to keep the pixels square.
        window = {"x": [w / 2 - 0.5 - half / 8, w / 2 - 0.5 + half / 8], "y": [h / 2 - 0.5 + half, h / 2 - 0.5 - half]}
    most = max(12, int(900 / cols / 6.5))  # characters a title of a panel this narrow has room for
    for i, (title, img) in enumerate(panels):
        sfx = "" if i == 0 else str(i + 1)
        row, col = divmod(i, cols)
        data.append({"type": "image", "source": img if isinstance(img, str) else data_uri(img), "hoverinfo": "skip",
                     "xaxis": f"x{sfx}", "yaxis": f"y{sfx}"})
        x0 = col * (width + gap)
        top = 1 - row * (panel_px + ROW_TITLE_PX) / plot_px
        layout[f"xaxis{sfx}"] = {"domain": [x0, x0 + width], "showticklabels": False, "ticks": "", "showgrid": False,
                                 "zeroline": False, **({"matches": "x"} if i else {})}
        layout[f"yaxis{sfx}"] = {"showticklabels": False, "ticks": "", "showgrid": False, "zeroline": False, "autorange": "reversed",
                                 "scaleanchor": f"x{sfx}", **({"matches": "y"} if i else {})}
        if rows > 1:
            layout[f"yaxis{sfx}"]["domain"] = [max(0.0, top - panel_px / plot_px), top]
        if window is not None:
            layout[f"xaxis{sfx}"].update(range=window["x"], constrain="range")  # image traces default to "domain"
            layout[f"yaxis{sfx}"].update(range=window["y"], autorange=False, constrain="range")
        h, w = _image_size(img)  # a thin frame on the image's edge: white areas would vanish into the page
        layout["shapes"].append({"type": "rect", "xref": f"x{sfx}", "yref": f"y{sfx}", "x0": -0.5, "y0": -0.5,
                                 "x1": w - 0.5, "y1": h - 0.5, "line": {"color": "#9e9e9e", "width": 1},
                                 "layer": "above"})
        short = title if len(title) <= most else title[: most - 1] + "…"
        layout["annotations"].append({"text": short, "x": x0 + width / 2, "y": top, "xref": "paper", "yref": "paper",
                                      "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                                      **({"hovertext": title} if short != title else {})})
    return {"data": data, "layout": layout}


def _image_size(img: np.ndarray | str) -> tuple[int, int]:
    """(height, width) of a core-layout array, or of a PNG data URI (read from its IHDR header)."""
    if isinstance(img, str):
        head = base64.b64decode(img.split(",", 1)[1][:32])  # signature (8), chunk length and type (8), IHDR
        return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
    h, w = np.shape(img)[-2:]  # (H, W) or (C, H, W)
    return h, w


def heatmap(values: np.ndarray, *, title: str = "", colorscale: str = "RdBu_r", zmid: float | None = None,
            text: bool = False, height: int = 320, zmin: float | None = None, zmax: float | None = None) -> go.Figure:
    """A 2-D array as a heat map (row 0 at the top), optionally with the numbers written in the cells.

    ``zmin`` and ``zmax`` fix the colour scale (maps drawn side by side on one scale compare by colour); without
    them the scale spans the values (centred on ``zmid`` when given).
    """
    v = np.asarray(values, dtype=float)
    scale = {"zmin": zmin, "zmax": zmax} if zmin is not None and zmax is not None else {"zmid": zmid}
    fig = go.Figure(go.Heatmap(z=v, colorscale=colorscale, **scale, text=np.round(v, 3) if text else None,
                               texttemplate="%{text}" if text else None, colorbar={"thickness": 12}))
    # cell indices label small maps; a larger one shows neither labels nor stray tick marks; no grid over the cells
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=v.shape[0] <= 16, showgrid=False,
                     ticks="" if v.shape[0] > 16 else None, zeroline=False)
    fig.update_xaxes(showticklabels=v.shape[1] <= 16, showgrid=False, ticks="" if v.shape[1] > 16 else None,
                     zeroline=False)
    fig.update_layout(title=title, height=height, **LAYOUT)
    return fig


def spectra(curves: Sequence[tuple[str, np.ndarray, np.ndarray]], *, title: str = "Radially averaged power spectrum",
            height: int = 320) -> go.Figure:
    """Power against frequency (cycles/pixel), log scale, one line per output.

    Power below 1e-8 of the largest (zero, in the spectrum of a periodic kernel map) is drawn on that floor, so the
    axis spans the powers that differ rather than the rounding of an FFT; labels read 10^k, at most about six.
    """
    fig = go.Figure()
    top = max((float(np.max(p)) for _, _, p in curves if np.size(p)), default=1.0)
    ys = [np.maximum(p, max(top, 1e-30) * 1e-8) for _, _, p in curves]
    low = min((float(np.min(y)) for y in ys if y.size), default=top)
    for (name, f, _), y in zip(curves, ys, strict=True):
        fig.add_trace(go.Scatter(x=f, y=y, mode="lines", name=name))
    decades = np.log10(max(top, 1e-30) / max(low, 1e-30))
    fig.update_yaxes(type="log", title="power", dtick=max(1, int(np.ceil(decades / 6))), exponentformat="power")
    fig.update_xaxes(title="frequency (cycles/pixel)", range=[0, 0.5])
    fig.update_layout(title=title, height=height, legend={"orientation": "h", "y": -0.3}, **LAYOUT)
    return fig


def histogram(values: np.ndarray, *, thresholds: Sequence[tuple[str, float]] = (), title: str = "",
              x_title: str = "", y_title: str = "count", height: int = 300) -> go.Figure:
    """Histogram of values with labelled vertical threshold lines.

    The x axis spans the values and the lines with a margin, so a bar at the largest value (a kernel of a few
    distinct thresholds is all extremes) is drawn whole rather than cut by the plot's edge.
    """
    v = np.asarray(values, dtype=float).ravel()
    fig = go.Figure(go.Histogram(x=v, nbinsx=80, marker={"color": "#7f8c8d"}))
    for label, t in thresholds:  # unlabelled lines stay unlabelled, so close thresholds do not collide
        fig.add_vline(x=t, line={"dash": "dash", "width": 1.5},
                      **({"annotation_text": label, "annotation_position": "top"} if label else {}))
    ends = [float(x) for x in (*v[np.isfinite(v)], *(t for _, t in thresholds))]
    if ends:
        lo, hi = min(ends), max(ends)
        pad = 0.06 * (hi - lo) if hi > lo else 0.5
        fig.update_xaxes(range=[lo - pad, hi + pad])
    fig.update_xaxes(title=x_title)
    few = v.size and np.isfinite(v).any() and np.histogram(v[np.isfinite(v)], bins=80)[0].max() <= 8
    # counts are whole numbers: a tick at each where they are few (plotly would put ticks at 0.2, 0.4, ...)
    fig.update_yaxes(title=y_title, tickformat=",d", rangemode="tozero", **({"dtick": 1} if few else {}))
    fig.update_layout(title=title, height=height, bargap=0.02, showlegend=False, **LAYOUT)
    return fig


def bars(labels: Sequence[str], values: Sequence[float], *, title: str = "", height: int = 320,
         range_y: tuple[float, float] = (0, 1)) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(labels), y=list(values), text=[f"{v:.2f}" for v in values], textposition="auto"))
    fig.update_yaxes(range=list(range_y))
    fig.update_layout(title=title, height=height, **LAYOUT)
    return fig


def grouped_bars(labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str = "",
                 height: int = 340) -> go.Figure:
    """Accuracies (fractions; None draws no bar) as grouped bars in percent, the unit of the pages' tables."""
    fig = go.Figure([go.Bar(name=n, x=list(labels), y=[None if a is None else 100 * a for a in v])
                     for n, v in series.items()])
    fig.update_yaxes(range=[0, 100], title="accuracy (%)")
    fig.update_layout(barmode="group", title=title, height=height, legend={"orientation": "h", "y": -0.25}, **LAYOUT)
    return fig


def sweep(rows: Sequence[dict], *, reference: float | None = None, title: str = "", height: int = 320) -> go.Figure:
    """Accuracy (%) against kernel strength, with the network's own accuracy as a dashed reference line."""
    fig = go.Figure(go.Scatter(x=[r["strength"] for r in rows], y=[100 * r["accuracy"] for r in rows],
                               mode="lines+markers", name="swapped in"))
    if reference is not None:
        fig.add_hline(y=100 * reference, line={"dash": "dash", "color": "#7f8c8d"},
                      annotation_text="trained kernels", annotation_position="bottom right")
    fig.update_xaxes(title="strength (0 = Sign, 1 = the kernel as given)")
    fig.update_yaxes(title="accuracy (%)", range=[0, 100])
    fig.update_layout(title=title, height=height, **LAYOUT)
    return fig


def confusion(matrix: np.ndarray, classes: Sequence[str], *, title: str = "Confusion matrix",
              height: int = 420) -> go.Figure:
    m = np.asarray(matrix)
    fig = go.Figure(go.Heatmap(z=m, x=list(classes), y=list(classes), colorscale="Blues", text=m,
                               texttemplate="%{text}", colorbar={"thickness": 12}))
    fig.update_yaxes(autorange="reversed", title="true")
    fig.update_xaxes(title="predicted")
    fig.update_layout(title=title, height=height, **LAYOUT)
    return fig


def score_histogram(counts: Sequence[int], edges: Sequence[float], marks: dict[str, float], *, title: str = "",
                    height: int = 300, x_title: str = "") -> go.Figure:
    """Histogram from precomputed bins, with labelled vertical lines (e.g. where the paper's presets score)."""
    e = np.asarray(edges)
    fig = go.Figure(go.Bar(x=(e[:-1] + e[1:]) / 2, y=list(counts), width=np.diff(e), marker={"color": "#7f8c8d"}))
    # labels step down one line each in score order, so close marks do not write over each other
    for i, (label, x) in enumerate(sorted(marks.items(), key=lambda m: m[1])):
        fig.add_vline(x=x, line={"dash": "dash"})
        fig.add_annotation(x=x, y=1 - 0.1 * (i % 4), xref="x", yref="paper", text=label, showarrow=False,
                           xanchor="left", yanchor="top", xshift=3, bgcolor="rgba(255,255,255,0.7)")
    fig.update_layout(title=title, height=height, showlegend=False, **LAYOUT)
    fig.update_yaxes(type="log", title="candidates", dtick=1)  # 1, 10, 100: no 2s and 5s between the decades
    fig.update_xaxes(title=x_title)
    return fig


#: The colour of a kernel's thresholds in histograms (its band, its ticks and its mean).
KERNEL_COLOR = "#d35400"


def threshold_histogram(values: np.ndarray, *, thresholds: Sequence[float], shift: float | None = None,
                        title: str = "", x_title: str = "", y_title: str = "pixels", height: int = 330,
                        most_ticks: int = 16) -> go.Figure:
    """Histogram of a map's values against Sign's threshold (0) and a kernel's, drawn so the data stays visible.

    The kernel's thresholds are a shaded band from the lowest to the highest behind the bars, with a short tick at
    the foot of each (up to ``most_ticks`` distinct ones); two lines mark Sign's threshold and, where given (None for
    a centred kernel), the kernel's mean threshold ``shift`` (where Sign at the kernel's mean cuts); a legend below names them.
    Dozens of full-height dashed lines, one per threshold, hid the histogram. One bar four times the next tallest
    (a flat background) is cut, with its count written at the top, so the others keep their height.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    t = np.unique(np.asarray(thresholds, dtype=float))
    counts, edges = np.histogram(v, bins=80) if v.size else (np.zeros(1), np.array([-0.5, 0.5]))
    fig = go.Figure(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=np.diff(edges), marker={"color": "#566573"},
                           opacity=0.9, customdata=np.stack([edges[:-1], edges[1:]], 1), name="pixels",
                           hovertemplate="%{customdata[0]:.2f} to %{customdata[1]:.2f}: %{y} pixels<extra></extra>"))
    top = np.sort(counts)[::-1]
    if top.size > 1 and top[0] > 4 * max(top[1], 1):
        cap = 1.4 * max(top[1], 1)
        fig.update_yaxes(range=[0, cap])
        i = int(np.argmax(counts))
        fig.add_annotation(x=float((edges[i] + edges[i + 1]) / 2), y=cap, text=f"{int(counts[i]):,} ↑", showarrow=False,
                           yanchor="top", xanchor="left", font={"size": 11})
    legend = []
    if t.size > 1:
        fig.add_vrect(x0=float(t.min()), x1=float(t.max()), fillcolor=KERNEL_COLOR, opacity=0.15, line_width=0,
                      layer="below")
        legend.append(("kernel's thresholds", {"color": "rgba(211, 84, 0, 0.3)", "width": 8}))
    if t.size <= most_ticks:  # a few thresholds: a tick at the foot of each, not a line across the data
        for x in t:
            fig.add_shape(type="line", x0=float(x), x1=float(x), y0=0, y1=0.07, xref="x", yref="paper",
                          line={"color": KERNEL_COLOR, "width": 3}, layer="above")
        if t.size == 1:
            legend.append(("kernel's threshold", {"color": KERNEL_COLOR, "width": 3}))
    sign_line = {"color": "#1b2631", "width": 1.5}
    fig.add_vline(x=0.0, line=sign_line)
    legend.append(("Sign's threshold (0)", sign_line))
    if shift is not None:  # the caller leaves it out for a centred kernel
        mean_line = {"color": KERNEL_COLOR, "width": 1.5, "dash": "dot"}
        fig.add_vline(x=float(shift), line=mean_line)
        legend.append((f"kernel mean ({shift:+.2f})", mean_line))
    for label, line in legend:  # legend entries only: the shapes above draw them
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=line, name=label, hoverinfo="skip"))
    ends = [float(x) for x in (*v, *t, 0.0)]
    lo, hi = min(ends), max(ends)
    pad = 0.06 * (hi - lo) if hi > lo else 0.5
    fig.update_xaxes(range=[lo - pad, hi + pad], title=x_title)
    fig.update_yaxes(title=y_title)
    fig.update_layout(title=title, height=height, showlegend=True,
                      legend={"orientation": "h", "y": -0.3, "x": 0, "font": {"size": 11}}, **LAYOUT)
    fig.update_traces(showlegend=False, selector={"type": "bar"})
    return fig


def align_top(figure: dict) -> dict:
    """A :func:`side_by_side` figure whose fitted images sit at the top of their panels, under their titles, rather
    than in the middle (a panel narrower than it is tall left a gap between title and image)."""
    for name, axis in figure["layout"].items():
        if name.startswith("yaxis") and "range" not in axis:
            axis["constraintoward"] = "top"
    return figure


def channel_mosaic(panels: Sequence[tuple[str, np.ndarray]], *, grid: tuple[int, int], tile: tuple[int, int],
                   channels: int, current: int | None = None, height: int = 420, per_row: int = 2) -> dict:
    """:func:`side_by_side` of a layer's channel montages (:func:`dither_lab.nn.feature_maps.layer_mosaic`) that
    a click selects a channel in.

    Each panel carries an invisible point at the centre of each channel's tile, in channel order (so a selected
    point's index is its channel), and hovering anywhere picks the nearest one, so a click anywhere on a tile
    selects its channel through ``st.plotly_chart(..., on_select=..., selection_mode="points")``; hovering says
    which channel it is. ``current`` is framed in every panel.
    """
    fig = side_by_side(panels, height=height, per_row=per_row)
    h, w = tile
    cols = grid[1]
    xs = [c % cols * (w + 1) + (w - 1) / 2 for c in range(channels)]
    ys = [c // cols * (h + 1) + (h - 1) / 2 for c in range(channels)]
    for i in range(len(panels)):
        sfx = "" if i == 0 else str(i + 1)
        fig["data"].append({"type": "scatter", "x": xs, "y": ys, "mode": "markers", "xaxis": f"x{sfx}",
                            "yaxis": f"y{sfx}", "customdata": list(range(channels)), "showlegend": False,
                            "marker": {"size": 12, "opacity": 0}, "selected": {"marker": {"opacity": 0}},
                            "unselected": {"marker": {"opacity": 0}},
                            "hovertemplate": "channel %{customdata}<extra></extra>"})
        if current is not None and 0 <= current < channels:
            r, c = divmod(current, cols)
            fig["layout"]["shapes"].append({"type": "rect", "xref": f"x{sfx}", "yref": f"y{sfx}",
                                            "x0": c * (w + 1) - 0.5, "x1": c * (w + 1) + w - 0.5,
                                            "y0": r * (h + 1) - 0.5, "y1": r * (h + 1) + h - 0.5,
                                            "line": {"color": KERNEL_COLOR, "width": 2}, "layer": "above"})
    fig["layout"].update(hovermode="closest", hoverdistance=-1)
    return fig


def grouped_hbars(labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str = "",
                  most_chars: int = 30, bar_px: int = 7) -> go.Figure:
    """Accuracies (fractions; None draws no bar) as grouped horizontal bars in percent, one group per label, the
    first at the top: long names (a kernel's, as its table gives it) read across rather than turned on end.
    Labels longer than ``most_chars`` are shortened, whole on hover."""
    short = [lab if len(lab) <= most_chars else lab[: most_chars - 1] + "…" for lab in labels]
    fig = go.Figure([go.Bar(name=n, y=short, x=[None if a is None else 100 * a for a in v], orientation="h",
                            customdata=list(labels), hovertemplate="%{customdata}: %{x:.2f}%<extra>" + n + "</extra>")
                     for n, v in series.items()])
    fig.update_xaxes(range=[0, 100], title="accuracy (%)")
    fig.update_yaxes(autorange="reversed", type="category")
    height = 150 + len(labels) * max(1, len(series)) * bar_px * 1.5
    fig.update_layout(barmode="group", title=title, height=int(height), bargap=0.25,
                      # below the bars: above them, a legend that wraps on a narrow page ran into the title
                      legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0},
                      margin={"l": 10, "r": 10, "t": 50, "b": 90})
    return fig
