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
_I64 = ir.IntType(64)


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


@intrinsic
def _compare16(typingctx, x, x_offset, theta, t_offset):  # noqa: ARG001
    """The 16 bits ``x.flat[x_offset + k] >= theta.flat[t_offset + k]`` (k < 16, bit k), as a uint64: one
    ``<16 x float>`` ordered compare (NaN compares false). Both arrays C-contiguous float32."""
    sig = types.uint64(x, types.intp, theta, types.intp)

    def codegen(context, builder, signature, args):
        xa, xo, ta, to = args
        x_arr = context.make_array(signature.args[0])(context, builder, xa)
        t_arr = context.make_array(signature.args[2])(context, builder, ta)
        fvec = ir.VectorType(ir.FloatType(), 16)
        xv = builder.load(builder.bitcast(builder.gep(x_arr.data, [xo]), fvec.as_pointer()), align=4)
        tv = builder.load(builder.bitcast(builder.gep(t_arr.data, [to]), fvec.as_pointer()), align=4)
        mask = builder.fcmp_ordered(">=", xv, tv)
        return builder.zext(builder.bitcast(mask, ir.IntType(16)), _I64)

    return sig, codegen


@_jit
def threshold_bits(x, theta, flipw, out):
    """Binary activation of a real map: bit = (x >= theta[i mod m, j mod n, c]) xor flip[c], packed.

    x (N, H, W, C) float32; theta (m, n, C) float32; flipw (words,) uint64: the flip flags packed as the output
    is; out (N, H, W, words) uint64. NaN compares false, as in the float model.
    """
    nb, h, w, c = x.shape
    m, n = theta.shape[0], theta.shape[1]
    words = out.shape[3]
    for b in range(nb):
        for i in range(h):
            ti = i % m
            tj = n - 1
            for j in range(w):
                tj = 0 if tj == n - 1 else tj + 1
                xo = ((b * h + i) * w + j) * c
                to = (ti * n + tj) * c
                for wd in range(words):
                    base = wd * 64
                    top = min(64, c - base)
                    word = np.uint64(0)
                    k = 0
                    while k + 16 <= top:
                        word |= _compare16(x, xo + base + k, theta, to + base + k) << np.uint64(k)
                        k += 16
                    for k2 in range(k, top):
                        word |= np.uint64(x[b, i, j, base + k2] >= theta[ti, tj, base + k2]) << np.uint64(k2)
                    out[b, i, j, wd] = word ^ flipw[wd]


_VEC = ir.VectorType(_I64, LANES)


@intrinsic
def _panel_block(typingctx, wp, patches, sums, panel, p):  # noqa: ARG001
    """sums[p + g, 8 * panel + l] = sum_q popcount(patches[p + g, q] xor wp[panel, q, l]) for g < 4, l < 8.

    Written as LLVM vector code (``<8 x i64>`` xor, ``llvm.ctpop``, add: four accumulators, one weight load per
    step), which the compiler's auto-vectorizer does not find in the scalar loop (numba's index arithmetic
    hides that the eight lanes are adjacent). AVX-512 VPOPCNTQ where the CPU has it; elsewhere LLVM lowers the
    same code to narrower vectors or scalar instructions, with the same result. All three arrays C-contiguous.
    """
    sig = types.void(wp, patches, sums, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        wpa, pa, sa, panel, p = args
        w_arr = context.make_array(signature.args[0])(context, builder, wpa)
        p_arr = context.make_array(signature.args[1])(context, builder, pa)
        s_arr = context.make_array(signature.args[2])(context, builder, sa)
        q_words = cgutils.unpack_tuple(builder, p_arr.shape)[1]
        ld = cgutils.unpack_tuple(builder, s_arr.shape)[1]
        lanes = ir.Constant(_I64, LANES)
        w_base = builder.gep(w_arr.data, [builder.mul(panel, builder.mul(q_words, lanes))])
        p_base = builder.gep(p_arr.data, [builder.mul(p, q_words)])
        s_base = builder.gep(s_arr.data, [builder.add(builder.mul(p, ld), builder.mul(panel, lanes))])
        accs = [cgutils.alloca_once_value(builder, ir.Constant(_VEC, [0] * LANES)) for _ in range(4)]
        ctpop = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VEC, [_VEC]), "llvm.ctpop.v8i64")
        undef = ir.Constant(_VEC, ir.Undefined)
        i32 = ir.IntType(32)
        splat = ir.Constant(ir.VectorType(i32, LANES), [0] * LANES)
        with cgutils.for_range(builder, q_words) as loop:
            q = loop.index
            wv = builder.load(builder.bitcast(builder.gep(w_base, [builder.mul(q, lanes)]), _VEC.as_pointer()),
                              align=8)
            for g in range(4):
                x = builder.load(builder.gep(p_base, [builder.add(builder.mul(ir.Constant(_I64, g), q_words), q)]))
                xv = builder.shuffle_vector(builder.insert_element(undef, x, ir.Constant(i32, 0)), undef, splat)
                count = builder.call(ctpop, [builder.xor(xv, wv)])
                builder.store(builder.add(builder.load(accs[g]), count), accs[g])
        for g in range(4):
            dst = builder.gep(s_base, [builder.mul(ir.Constant(_I64, g), ld)])
            builder.store(builder.load(accs[g]), builder.bitcast(dst, _VEC.as_pointer()), align=8)
        return context.get_dummy_value()

    return sig, codegen


@_jit
def _panel_sums(patches, count, wp, sums):
    """sums[p, o] = sum_q popcount(patches[p, q] xor w[o, q]) for p < count (rounded up to 4), all o.

    wp (panels, Q, 8): the weights of output channels 8*panel .. 8*panel+7, four pixels by eight channels at a
    time (:func:`_panel_block`)."""
    for pn in range(wp.shape[0]):
        for p in range(0, count, 4):
            _panel_block(wp, patches, sums, pn, p)


@intrinsic
def _pack_ge(typingctx, best, offset, kt, kt_offset, count):  # noqa: ARG001
    """The bits ``best.flat[offset + k] >= kt.flat[kt_offset + k]`` for k < count (<= 64), bit k of a uint64:
    eight at a time as ``<8 x i64>`` signed compares (kt int16 or int32, widened), then one at a time.
    Both arrays C-contiguous."""
    sig = types.uint64(best, types.intp, kt, types.intp, types.intp)
    kt_bits = kt.dtype.bitwidth

    def codegen(context, builder, signature, args):
        ba, off, ka, koff, count = args
        b_arr = context.make_array(signature.args[0])(context, builder, ba)
        k_arr = context.make_array(signature.args[2])(context, builder, ka)
        b_base = builder.gep(b_arr.data, [off])
        k_base = builder.gep(k_arr.data, [koff])
        kvec = ir.VectorType(ir.IntType(kt_bits), LANES)
        eight = ir.Constant(_I64, LANES)
        word = cgutils.alloca_once_value(builder, ir.Constant(_I64, 0))
        blocks = builder.udiv(count, eight)
        with cgutils.for_range(builder, blocks) as loop:
            k = builder.mul(loop.index, eight)
            bv = builder.load(builder.bitcast(builder.gep(b_base, [k]), _VEC.as_pointer()), align=8)
            kv = builder.sext(builder.load(builder.bitcast(builder.gep(k_base, [k]), kvec.as_pointer()),
                                           align=kt_bits // 8), _VEC)
            bits = builder.zext(builder.bitcast(builder.icmp_signed(">=", bv, kv), ir.IntType(LANES)), _I64)
            builder.store(builder.or_(builder.load(word), builder.shl(bits, k)), word)
        with cgutils.for_range(builder, count, start=builder.mul(blocks, eight)) as loop:
            bv = builder.load(builder.gep(b_base, [loop.index]))
            kv = builder.sext(builder.load(builder.gep(k_base, [loop.index])), _I64)
            bit = builder.zext(builder.icmp_signed(">=", bv, kv), _I64)
            builder.store(builder.or_(builder.load(word), builder.shl(bit, loop.index)), word)
        return builder.load(word)

    return sig, codegen


@_jit
def binary_conv(xb, c, kh, kw, stride, pad, pool, wp, popw, mode, kt, flipw, scale, shift, res, prelu,
                out_bits, out_real):
    """A binary convolution on packed input, with its epilogue.

    Args:
        xb: input bits (N, H, W, words); c: its channels; kh, kw, stride, pad: the convolution; pool: 1, or 2 for
            a 2x2 max-pool of the accumulators (exact: the float model's output is monotone in them).
        wp: packed weights (panels, Q, 8); popw (taps, O) int64: set weight bits per tap and output channel.
        mode: 0 writes bits, ``(acc >= kt[i mod m, j mod n, o]) xor flip[o]`` (batch norm and the dithered
            threshold folded into integer thresholds; ``flipw`` the flips packed as the output); 1 writes
            ``float32(acc) * scale[o]``, then ``+ shift[o]``, ``+ res[b, i, j, o]``, PReLU with ``prelu[o]``, each
            only where that array is non-empty.
        out_bits (N, Ho, Wo, words_out) / out_real (N, Ho, Wo, O): the output (the other may be empty).

    The accumulator of output channel o at a pixel is the exact +-1 dot product ``valid * C - 2 * mismatches``
    over the taps inside the input; the popcount also counted the weight bits of the taps outside (whose patch
    bits are 0) as mismatches, ``popw[t, o]`` of them, which are added back.
    """
    nb, h, w = xb.shape[0], xb.shape[1], xb.shape[2]
    q_words = wp.shape[1]
    o_count = popw.shape[1]
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (w + 2 * pad - kw) // stride + 1
    oh, ow = ho // pool, wo // pool  # output map (pooled)
    cols = ow * pool  # conv columns a row needs
    npix = pool * cols
    npad = (npix + 3) // 4 * 4
    taps = kh * kw
    patches = np.zeros((npad, q_words), dtype=np.uint64)
    sums = np.zeros((npad, wp.shape[0] * 8), dtype=np.uint64)
    base = np.zeros(npad, dtype=np.int64)  # valid taps x C per pixel
    best = np.empty(o_count, dtype=np.int64)
    m, n = kt.shape[0], kt.shape[1]
    has_shift, has_res, has_prelu = shift.shape[0] > 0, res.shape[0] > 0, prelu.shape[0] > 0
    words_out = out_bits.shape[3]
    words_in = xb.shape[3]
    tap_word = np.empty(taps, dtype=np.int64)  # where tap t's bits start in the patch
    tap_shift = np.empty(taps, dtype=np.uint64)
    for t in range(taps):
        tap_word[t] = (t * c) >> 6
        tap_shift[t] = (t * c) & 63
    for b in range(nb):
        for oi in range(oh):
            # patches of the conv pixels this output row needs: taps row-major at offset t * C, 0 outside
            for r in range(pool):
                i = oi * pool + r
                for j in range(cols):
                    p = r * cols + j
                    for q in range(q_words):
                        patches[p, q] = 0
                    i0, j0 = i * stride - pad, j * stride - pad
                    if words_in == 1 and i0 >= 0 and j0 >= 0 and i0 + kh <= h and j0 + kw <= w:
                        # an interior pixel of a map of at most 64 channels: every tap inside, one word each
                        t = 0
                        for u in range(kh):
                            for v in range(kw):
                                word = xb[b, i0 + u, j0 + v, 0]
                                q = tap_word[t]
                                sh = tap_shift[t]
                                patches[p, q] |= word << sh
                                if sh != 0 and q + 1 < q_words:
                                    patches[p, q + 1] |= word >> (np.uint64(64) - sh)
                                t += 1
                        base[p] = taps * c
                        continue
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
                            for wd in range(words_in):
                                word = xb[b, ii, jj, wd]
                                pos = off + 64 * wd
                                q = pos >> 6
                                sh = pos & 63
                                patches[p, q] |= word << np.uint64(sh)
                                if sh != 0 and q + 1 < q_words:
                                    patches[p, q + 1] |= word >> np.uint64(64 - sh)
                    base[p] = valid * c
            _panel_sums(patches, npix, wp, sums)
            for r in range(pool):  # border pixels: drop the mismatches counted on taps outside the input
                i = oi * pool + r
                for j in range(cols):
                    p = r * cols + j
                    if base[p] != taps * c:
                        for u in range(kh):
                            ii = i * stride - pad + u
                            for v in range(kw):
                                jj = j * stride - pad + v
                                if ii < 0 or ii >= h or jj < 0 or jj >= w:
                                    t = u * kw + v
                                    for o in range(o_count):
                                        sums[p, o] -= np.uint64(popw[t, o])
            ti = oi % m
            tj = n - 1  # oj mod n, counted up (a division per pixel costs more than the compare it indexes)
            for oj in range(ow):
                tj = 0 if tj == n - 1 else tj + 1
                p0 = oj * pool
                b0 = base[p0]
                for o in range(o_count):
                    best[o] = b0 - 2 * np.int64(sums[p0, o])
                if pool > 1:
                    for r in range(pool):
                        for s2 in range(pool):
                            p = r * cols + p0 + s2
                            bp = base[p]
                            for o in range(o_count):
                                best[o] = max(best[o], bp - 2 * np.int64(sums[p, o]))
                if mode == 0:
                    krow = (ti * n + tj) * o_count
                    for wd in range(words_out):
                        lo = wd * 64
                        word = _pack_ge(best, lo, kt, krow + lo, min(64, o_count - lo))
                        out_bits[b, oi, oj, wd] = word ^ flipw[wd]
                else:
                    for o in range(o_count):
                        v = np.float32(best[o]) * scale[o]
                        if has_shift:
                            v = v + shift[o]
                        if has_res:
                            v = v + res[b, oi, oj, o]
                        if has_prelu and not v > 0:
                            v = prelu[o] * v
                        out_real[b, oi, oj, o] = v


# -------------------------------------------------------------------------------------------------- real


_F32 = ir.FloatType()
_FVEC = ir.VectorType(_F32, 16)


@intrinsic
def _fma_row(typingctx, acc, acc_offset, n, x, w, offset):  # noqa: ARG001
    """acc.flat[acc_offset + o] = fma(x, w.flat[offset + o], acc.flat[acc_offset + o]) for o < n:
    ``<16 x float>`` fused multiply-adds (each element rounded once, as the scalar fma), then a scalar tail.
    acc and w C-contiguous float32."""
    sig = types.void(acc, types.intp, types.intp, types.float32, w, types.intp)

    def codegen(context, builder, signature, args):
        acc_a, acc_offset, n, x, w_a, offset = args
        a_arr = context.make_array(signature.args[0])(context, builder, acc_a)
        w_arr = context.make_array(signature.args[4])(context, builder, w_a)
        a_base = builder.gep(a_arr.data, [acc_offset])
        w_base = builder.gep(w_arr.data, [offset])
        sixteen = ir.Constant(_I64, 16)
        blocks = builder.udiv(n, sixteen)
        i32 = ir.IntType(32)
        xv = builder.shuffle_vector(builder.insert_element(ir.Constant(_FVEC, ir.Undefined), x, ir.Constant(i32, 0)),
                                    ir.Constant(_FVEC, ir.Undefined), ir.Constant(ir.VectorType(i32, 16), [0] * 16))
        vfma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_FVEC, [_FVEC] * 3), "llvm.fma.v16f32")
        sfma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_F32, [_F32] * 3), "llvm.fma.f32")
        with cgutils.for_range(builder, blocks) as loop:
            k = builder.mul(loop.index, sixteen)
            ap = builder.bitcast(builder.gep(a_base, [k]), _FVEC.as_pointer())
            wp = builder.bitcast(builder.gep(w_base, [k]), _FVEC.as_pointer())
            builder.store(builder.call(vfma, [xv, builder.load(wp, align=4), builder.load(ap, align=4)]), ap, align=4)
        with cgutils.for_range(builder, n, start=builder.mul(blocks, sixteen)) as loop:
            ap = builder.gep(a_base, [loop.index])
            wv = builder.load(builder.gep(w_base, [loop.index]))
            builder.store(builder.call(sfma, [x, wv, builder.load(ap)]), ap)
        return context.get_dummy_value()

    return sig, codegen


@_jit
def real_conv(x, wt, stride, pad, taps, fused, bn_a, bn_b, out):
    """Real convolution, summed in the float model's order: ``taps`` (kh*kw*C, 3) lists (row, column, channel)
    in the order the backend adds them, from 0, each a fused multiply-add if ``fused`` (else a product, then a
    sum); taps in the zero padding are skipped. x (N, H, W, C); wt (kh, kw, C, O) C-contiguous. Where ``bn_a``
    is not empty, the batch norm that follows is applied to each rounded output: ``fma(y, bn_a, bn_b)``.

    Eight pixels of a row at a time, so that consecutive fused multiply-adds do not wait on each other."""
    nb, h, w = x.shape[0], x.shape[1], x.shape[2]
    c, o_count = wt.shape[2], wt.shape[3]
    ho, wo = out.shape[1], out.shape[2]
    group = 8
    acc = np.empty((group, o_count), dtype=np.float32)
    has_bn = bn_a.shape[0] > 0
    for b in range(nb):
        for i in range(ho):
            for j0 in range(0, wo, group):
                count = min(group, wo - j0)
                acc[:] = 0.0
                for t in range(taps.shape[0]):
                    u, v, k = taps[t, 0], taps[t, 1], taps[t, 2]
                    ii = i * stride - pad + u
                    if ii < 0 or ii >= h:
                        continue
                    w_off = ((u * wt.shape[1] + v) * c + k) * o_count
                    for g in range(count):
                        jj = (j0 + g) * stride - pad + v
                        if jj < 0 or jj >= w:
                            continue
                        xv = x[b, ii, jj, k]
                        if fused:
                            _fma_row(acc, g * o_count, o_count, xv, wt, w_off)
                        else:
                            for o in range(o_count):
                                acc[g, o] = acc[g, o] + xv * wt[u, v, k, o]
                for g in range(count):
                    if has_bn:
                        for o in range(o_count):
                            out[b, i, j0 + g, o] = fma32(acc[g, o], bn_a[o], bn_b[o])
                    else:
                        for o in range(o_count):
                            out[b, i, j0 + g, o] = acc[g, o]


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
