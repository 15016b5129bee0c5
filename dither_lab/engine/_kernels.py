"""The packed engine's compiled loops (numba; NumPy arrays in and out, no PyTorch).

Layouts: real-valued maps are float32 (N, H, W, C) (channels last); binary maps are uint64 (N, H, W, ceil(C / 64)),
channel ``c`` at bit ``c % 64`` of word ``c // 64``, a set bit meaning +1, the bits past C always 0.

Every function releases the GIL (``nogil=True``), so callers parallelize by running batch chunks in their own
threads; none uses numba's parallel threading layer, which is not safe for concurrent callers. All are cached on
disk (``cache=True``) after their first compilation.

The real-valued loops repeat the float model's own arithmetic, operation for operation, so that they round the
same way: a real convolution adds its taps in the order the backend does (oneDNN's direct convolutions differ by
shape; the compiler finds the order by probing), each step one fused multiply-add; PyTorch's CPU batch norm is ``fma(x, a, fma(-mean, a, beta))`` with
``a = gamma * (1 / sqrt(var + eps))``; average pooling sums its window row by row and divides; the global mean
is PyTorch's cascade sum (chunks of 16) divided by the count.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 8  # output channels per weight panel: one 512-bit register of 64-bit words


@intrinsic
def popcount(typingctx, x):  # noqa: ARG001 - numba's intrinsic signature
    """``llvm.ctpop.i64``: one instruction where the CPU has it, and vectorized where it can."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(64), [ir.IntType(64)]),
                                            "llvm.ctpop.i64")
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def fma32(typingctx, a, b, c):  # noqa: ARG001
    """``llvm.fma.f32``: ``a * b + c`` rounded once (exact on every CPU; in hardware where it has FMA)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        f32 = ir.FloatType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f32, [f32, f32, f32]), "llvm.fma.f32")
        return builder.call(fn, args)

    return sig, codegen


_jit = numba.njit(cache=True, nogil=True)


@_jit
def fma_vector(a, b, c):
    """Elementwise ``fma(a, b, c)`` of three float32 vectors."""
    out = np.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = fma32(a[i], b[i], c[i])
    return out


# ------------------------------------------------------------------------------------------------- binary


@_jit
def threshold_bits(x, theta, flip, out):
    """Binary activation of a real map: bit = (x >= theta[i mod m, j mod n, c]) xor flip[c], packed.

    x (N, H, W, C) float32; theta (m, n, C) float32; flip (C,) uint8; out (N, H, W, words) uint64.
    NaN compares false, as in the float model.
    """
    nb, h, w, c = x.shape
    m, n = theta.shape[0], theta.shape[1]
    words = out.shape[3]
    for b in range(nb):
        for i in range(h):
            for j in range(w):
                row = theta[i % m, j % n]
                for wd in range(words):
                    base = wd * 64
                    top = min(64, c - base)
                    word = np.uint64(0)
                    for k in range(top):
                        bit = (x[b, i, j, base + k] >= row[base + k]) != (flip[base + k] != 0)
                        word |= np.uint64(bit) << np.uint64(k)
                    out[b, i, j, wd] = word


@_jit
def _panel_sums(patches, count, wp, sums):
    """sums[p, o] = sum_q popcount(patches[p, q] xor w[o, q]) for p < count (rounded up to 4), all o.

    wp (panels, Q, 8): weights of output channels 8*panel .. 8*panel+7; four pixels by eight channels at a time,
    32 accumulators the compiler keeps in four vector registers."""
    panels, q_words = wp.shape[0], wp.shape[1]
    for pn in range(panels):
        o0 = pn * 8
        for p in range(0, count, 4):
            a00 = a01 = a02 = a03 = a04 = a05 = a06 = a07 = np.uint64(0)
            a10 = a11 = a12 = a13 = a14 = a15 = a16 = a17 = np.uint64(0)
            a20 = a21 = a22 = a23 = a24 = a25 = a26 = a27 = np.uint64(0)
            a30 = a31 = a32 = a33 = a34 = a35 = a36 = a37 = np.uint64(0)
            for q in range(q_words):
                w0 = wp[pn, q, 0]
                w1 = wp[pn, q, 1]
                w2 = wp[pn, q, 2]
                w3 = wp[pn, q, 3]
                w4 = wp[pn, q, 4]
                w5 = wp[pn, q, 5]
                w6 = wp[pn, q, 6]
                w7 = wp[pn, q, 7]
                x = patches[p, q]
                a00 += popcount(x ^ w0)
                a01 += popcount(x ^ w1)
                a02 += popcount(x ^ w2)
                a03 += popcount(x ^ w3)
                a04 += popcount(x ^ w4)
                a05 += popcount(x ^ w5)
                a06 += popcount(x ^ w6)
                a07 += popcount(x ^ w7)
                x = patches[p + 1, q]
                a10 += popcount(x ^ w0)
                a11 += popcount(x ^ w1)
                a12 += popcount(x ^ w2)
                a13 += popcount(x ^ w3)
                a14 += popcount(x ^ w4)
                a15 += popcount(x ^ w5)
                a16 += popcount(x ^ w6)
                a17 += popcount(x ^ w7)
                x = patches[p + 2, q]
                a20 += popcount(x ^ w0)
                a21 += popcount(x ^ w1)
                a22 += popcount(x ^ w2)
                a23 += popcount(x ^ w3)
                a24 += popcount(x ^ w4)
                a25 += popcount(x ^ w5)
                a26 += popcount(x ^ w6)
                a27 += popcount(x ^ w7)
                x = patches[p + 3, q]
                a30 += popcount(x ^ w0)
                a31 += popcount(x ^ w1)
                a32 += popcount(x ^ w2)
                a33 += popcount(x ^ w3)
                a34 += popcount(x ^ w4)
                a35 += popcount(x ^ w5)
                a36 += popcount(x ^ w6)
                a37 += popcount(x ^ w7)
            s = sums[p]
            s[o0], s[o0 + 1], s[o0 + 2], s[o0 + 3] = a00, a01, a02, a03
            s[o0 + 4], s[o0 + 5], s[o0 + 6], s[o0 + 7] = a04, a05, a06, a07
            s = sums[p + 1]
            s[o0], s[o0 + 1], s[o0 + 2], s[o0 + 3] = a10, a11, a12, a13
            s[o0 + 4], s[o0 + 5], s[o0 + 6], s[o0 + 7] = a14, a15, a16, a17
            s = sums[p + 2]
            s[o0], s[o0 + 1], s[o0 + 2], s[o0 + 3] = a20, a21, a22, a23
            s[o0 + 4], s[o0 + 5], s[o0 + 6], s[o0 + 7] = a24, a25, a26, a27
            s = sums[p + 3]
            s[o0], s[o0 + 1], s[o0 + 2], s[o0 + 3] = a30, a31, a32, a33
            s[o0 + 4], s[o0 + 5], s[o0 + 6], s[o0 + 7] = a34, a35, a36, a37


@_jit
def _build_patch(xb, b, i, j, c, kh, kw, stride, pad, patch):
    """Gather the receptive field of output pixel (i, j) into ``patch`` (zeroed first): the bits of tap t at
    offset t * C (taps row-major, channels inside), a tap outside the input left 0. Returns the valid taps."""
    h, w, words = xb.shape[1], xb.shape[2], xb.shape[3]
    q_words = patch.shape[0]
    for q in range(q_words):
        patch[q] = 0
    valid = 0
    for u in range(kh):
        ii = i * stride - pad + u
        if ii < 0 or ii >= h:
            continue
        for v in range(kw):
            jj = j * stride - pad + v
            if jj < 0 or jj >= w:
                continue
            valid += 1
            off = (u * kw + v) * c
            src = xb[b, ii, jj]
            for wd in range(words):
                word = src[wd]
                pos = off + 64 * wd
                q = pos >> 6
                r = pos & 63
                patch[q] |= word << np.uint64(r)
                if r != 0 and q + 1 < q_words:
                    patch[q + 1] |= word >> np.uint64(64 - r)
    return valid


@_jit
def _accumulators(sums, p, valid, c, i, j, h, w, kh, kw, stride, pad, popw, acc):
    """acc[o] = the exact +-1 dot product of pixel p: valid*C - 2 * (mismatches over the valid taps); the
    popcount counted the weight bits of the taps outside the input as mismatches, popw[t, o] of them."""
    o_count = acc.shape[0]
    row = sums[p]
    full = valid == kh * kw
    for o in range(o_count):
        acc[o] = valid * c - 2 * np.int64(row[o])
    if not full:
        for u in range(kh):
            ii = i * stride - pad + u
            for v in range(kw):
                jj = j * stride - pad + v
                if ii < 0 or ii >= h or jj < 0 or jj >= w:
                    t = u * kw + v
                    for o in range(o_count):
                        acc[o] += 2 * popw[t, o]


@_jit
def binary_conv(xb, c, kh, kw, stride, pad, pool, wp, popw, mode, kt, flip, scale, shift, res, prelu,
                out_bits, out_real):
    """A binary convolution on packed input, with its epilogue.

    Args:
        xb: input bits (N, H, W, words); c: its channels; kh, kw, stride, pad: the convolution; pool: 1, or 2 for
            a 2x2 max-pool of the accumulators (exact: the float model's output is monotone in them).
        wp: packed weights (panels, Q, 8); popw (taps, O) int64: set weight bits per tap and output channel.
        mode: 0 writes bits, ``(acc >= kt[i mod m, j mod n, o]) xor flip[o]`` (batch norm and the dithered
            threshold folded into integer thresholds); 1 writes ``float32(acc) * scale[o]``, then ``+ shift[o]``,
            ``+ res[b, i, j, o]``, PReLU with ``prelu[o]``, each only where that array is non-empty.
        out_bits (N, Ho, Wo, words_out) / out_real (N, Ho, Wo, O): the output (the other may be empty).
    """
    nb, h, w = xb.shape[0], xb.shape[1], xb.shape[2]
    q_words = wp.shape[1]
    o_count = popw.shape[1]
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    oh, ow = ho // pool, wo // pool  # output map (pooled)
    cols = ow * pool  # conv columns a row needs
    rows_per = pool
    npix = rows_per * cols
    npad = (npix + 3) // 4 * 4
    patches = np.zeros((npad, q_words), dtype=np.uint64)
    sums = np.zeros((npad, wp.shape[0] * 8), dtype=np.uint64)
    valid = np.zeros(npad, dtype=np.int64)
    acc = np.empty(o_count, dtype=np.int64)
    best = np.empty(o_count, dtype=np.int64)
    m, n = kt.shape[0], kt.shape[1]
    has_shift, has_res, has_prelu = shift.shape[0] > 0, res.shape[0] > 0, prelu.shape[0] > 0
    words_out = out_bits.shape[3]
    for b in range(nb):
        for oi in range(oh):
            for r in range(rows_per):
                i = oi * pool + r
                for j in range(cols):
                    p = r * cols + j
                    valid[p] = _build_patch(xb, b, i, j, c, kh, kw, stride, pad, patches[p])
            _panel_sums(patches, npix, wp, sums)
            for oj in range(ow):
                for r in range(rows_per):
                    for s in range(pool):
                        i = oi * pool + r
                        j = oj * pool + s
                        p = r * cols + j
                        _accumulators(sums, p, valid[p], c, i, j, h, w, kh, kw, stride, pad, popw, acc)
                        if r == 0 and s == 0:
                            for o in range(o_count):
                                best[o] = acc[o]
                        else:
                            for o in range(o_count):
                                best[o] = max(best[o], acc[o])
                if mode == 0:
                    krow = kt[oi % m, oj % n]
                    for wd in range(words_out):
                        base = wd * 64
                        top = min(64, o_count - base)
                        word = np.uint64(0)
                        for k in range(top):
                            o = base + k
                            bit = (best[o] >= krow[o]) != (flip[o] != 0)
                            word |= np.uint64(bit) << np.uint64(k)
                        out_bits[b, oi, oj, wd] = word
                else:
                    dst = out_real[b, oi, oj]
                    for o in range(o_count):
                        v = np.float32(best[o]) * scale[o]
                        if has_shift:
                            v = v + shift[o]
                        if has_res:
                            v = v + res[b, oi, oj, o]
                        if has_prelu:
                            if not v > 0:
                                v = prelu[o] * v
                        dst[o] = v


# -------------------------------------------------------------------------------------------------- real


@_jit
def real_conv(x, wt, stride, pad, taps, fused, out):
    """Real convolution, summed in the float model's order: ``taps`` (kh*kw*C, 3) lists (row, column, channel)
    in the order the backend adds them, from 0, each a fused multiply-add if ``fused`` (else a product, then a
    sum); taps in the zero padding are skipped. x (N, H, W, C); wt (kh, kw, C, O)."""
    nb, h, w = x.shape[0], x.shape[1], x.shape[2]
    o_count = wt.shape[3]
    ho, wo = out.shape[1], out.shape[2]
    acc = np.empty(o_count, dtype=np.float32)
    for b in range(nb):
        for i in range(ho):
            for j in range(wo):
                for o in range(o_count):
                    acc[o] = 0.0
                for t in range(taps.shape[0]):
                    u, v, k = taps[t, 0], taps[t, 1], taps[t, 2]
                    ii = i * stride - pad + u
                    jj = j * stride - pad + v
                    if ii < 0 or ii >= h or jj < 0 or jj >= w:
                        continue
                    xv = x[b, ii, jj, k]
                    wrow = wt[u, v, k]
                    if fused:
                        for o in range(o_count):
                            acc[o] = fma32(xv, wrow[o], acc[o])
                    else:
                        for o in range(o_count):
                            acc[o] = acc[o] + xv * wrow[o]
                dst = out[b, i, j]
                for o in range(o_count):
                    dst[o] = acc[o]


@_jit
def batch_norm(x, a, shift, relu, out):
    """``fma(x, a[c], shift[c])`` (PyTorch's CPU batch norm at inference), then ReLU if ``relu``."""
    flat = x.reshape(-1, x.shape[-1])
    dst = out.reshape(-1, out.shape[-1])
    for p in range(flat.shape[0]):
        for k in range(flat.shape[1]):
            v = fma32(flat[p, k], a[k], shift[k])
            if relu and v < 0:
                v = np.float32(0.0)
            dst[p, k] = v


@_jit
def avg_pool(x, k, out):
    """k x k average pool with stride k: the window summed row by row from 0, then divided by k*k."""
    nb, c = x.shape[0], x.shape[3]
    ho, wo = out.shape[1], out.shape[2]
    div = np.float32(k * k)
    for b in range(nb):
        for i in range(ho):
            for j in range(wo):
                for ch in range(c):
                    s = np.float32(0.0)
                    for u in range(k):
                        for v in range(k):
                            s += x[b, i * k + u, j * k + v, ch]
                    out[b, i, j, ch] = s / div


@_jit
def global_mean(x, out):
    """Mean over H and W of (N, H, W, C) -> (N, C) as PyTorch sums a channels-last map: its cascade sum
    (``multi_row_sum``: levels of 2**max(4, ceil(log2(HW)) // 4) terms), divided by H*W."""
    nb, h, w, c = x.shape
    size = h * w
    flat = x.reshape(nb, size, c)
    log2 = 0
    while (1 << log2) < size:
        log2 += 1
    power = max(4, log2 // 4)
    step = 1 << power
    mask = step - 1
    levels = 4
    acc = np.zeros((levels, c), dtype=np.float32)
    div = np.float32(size)
    for b in range(nb):
        acc[:] = 0.0
        i = 0
        while i + step <= size:
            for _ in range(step):
                for ch in range(c):
                    acc[0, ch] += flat[b, i, ch]
                i += 1
            for lv in range(1, levels):
                for ch in range(c):
                    acc[lv, ch] += acc[lv - 1, ch]
                    acc[lv - 1, ch] = 0.0
                if (i & (mask << (lv * power))) != 0:
                    break
        while i < size:
            for ch in range(c):
                acc[0, ch] += flat[b, i, ch]
            i += 1
        for lv in range(1, levels):
            for ch in range(c):
                acc[0, ch] += acc[lv, ch]
        for ch in range(c):
            out[b, ch] = acc[0, ch] / div


@_jit
def linear(x, wt, bias, out):
    """out[b, o] = (sum over k of x[b, k] * wt[o, k], fused multiply-adds in order from 0) + bias[o]: the same
    order for every batch size (a BLAS product's depends on the shapes)."""
    for b in range(x.shape[0]):
        for o in range(wt.shape[0]):
            acc = np.float32(0.0)
            for k in range(x.shape[1]):
                acc = fma32(x[b, k], wt[o, k], acc)
            out[b, o] = acc + bias[o]
