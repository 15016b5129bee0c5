"""Image lab: Sign against ordered dithering on a test image."""

import numpy as np
import streamlit as st

from dither_lab import detail_metrics, make_kernel, ordered_dither

st.title("Image lab")
ramp = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (64, 1))
spec = st.text_input("Kernel spec", "bayer:4", help="e.g. bayer:4, blue-noise:64, preset:design-2x2-a")
try:
    kernel = make_kernel(spec, domain="unit", allow_files=False)
except ValueError as exc:
    st.error(str(exc))
    st.stop()
sign = ordered_dither(ramp, make_kernel("sign", domain="unit"))
out = ordered_dither(ramp, kernel)
c1, c2 = st.columns(2)
c1.image(sign * 255, caption="Sign (one threshold)", clamp=True)
c2.image(out * 255, caption=kernel.name, clamp=True)
st.dataframe({"Sign": detail_metrics(ramp, sign), kernel.name: detail_metrics(ramp, out)})
