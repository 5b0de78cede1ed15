/* Native kernel for softmax, log_softmax and logsumexp over the rows of a C-ordered array.
 *
 * Optional: the package falls back to its NumPy fast path when this extension is not built
 * (softmaxkit/_base/native.py loads it). The arithmetic is the NumPy fast path's
 * (softmaxkit/_base/fast.py), fused so that the input is read from memory once or twice and the
 * output written once:
 *
 *   class 0 ("unshifted", every x/T in [-700, 690 - log n]): p = exp(x/T) / sum exp(x/T); for the
 *            logarithmic maps the largest term is left out of the sum, s = sum_{j != k} e_j / e_k,
 *            lse = max + T log1p(s), and log_softmax = (x/T - hi) - lo with hi + lo = m + log1p(s);
 *   class 1 ("shifted", other finite rows): x - max split exactly by TwoSum (float64 input), the
 *            division by T in double-word arithmetic, e = exp(hi) + exp(hi) lo;
 *   class 2 (NaN, +-inf, a spread beyond the float range): not computed here; the row is flagged
 *            and the caller runs the generic kernel on it.
 *
 * Every sum is compensated (Kahan) in a fixed order that depends on the row alone (lanes by
 * position in the row for wide rows, sequential for narrow rows), so a row's bits do not depend
 * on the rows it is batched with, on the thread count, or on the instruction set chosen at run
 * time: there is no FMA contraction (-ffp-contract=off) and no reassociation (never -ffast-math,
 * which would remove the TwoSum and Kahan corrections). float32 is computed in float64 and
 * rounded once.
 *
 * exp is a table-driven polynomial (2^(j/16) from a 16-entry table, Cody-Waite reduction,
 * degree-7 Taylor polynomial on |r| <= ln2/32): within 0.55 ulp, exact at 0, gradual underflow
 * to subnormals and zero through two exact power-of-two scalings. It is a plain loop that the
 * compiler vectorises, and on AVX-512 the same operations written with intrinsics so that the
 * table is read by register permutes (bit-identical to the plain loop).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_MSC_VER)
#define SK_INLINE static __forceinline
#define SK_RESTRICT __restrict
#else
#define SK_INLINE static inline __attribute__((always_inline))
#define SK_RESTRICT __restrict__
#endif

/* Runtime CPU dispatch: GCC >= 8 and Clang >= 14 on x86-64 Linux (ifunc) compile the kernel
 * three times and pick the best at load time. Elsewhere (macOS, Windows, ARM) the baseline
 * build, which the compiler still vectorises for its default target (SSE2 / NEON). */
#if defined(__x86_64__) && defined(__linux__) && !defined(SOFTMAXKIT_NO_CLONES) &&              \
    ((defined(__clang__) && __clang_major__ >= 14) ||                                          \
     (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 8))
#define SK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define SK_HAVE_CLONES 1
#else
#define SK_CLONES
#define SK_HAVE_CLONES 0
#endif

#define LANES 32      /* accumulators of a wide row: element i goes to lane i % LANES */
#define CHUNK 1024    /* elements of a wide row per step (a multiple of LANES, fits in L1) */
#define NARROW 32     /* rows of at most this length are processed transposed, in blocks */
#define RBLOCK 256    /* rows per transposed block */
#define KEEP_MAX 32768 /* softmax rows up to this length keep their exponentials */

enum { MODE_SOFTMAX = 0, MODE_LOG = 1, MODE_LSE = 2 };

static const double INVLN2N = 0x1.71547652b82fep+4; /* 16 / ln 2 */
static const double NEGLN2HIN = -0x1.62e42fefa0000p-5; /* ln2/16 to 36 bits: k times it is exact */
static const double NEGLN2LON = -0x1.cf79abc9e3b3ap-44;
static const double C2 = 0x1.0000000000000p-1; /* 1/2! */
static const double C3 = 0x1.5555555555555p-3; /* 1/3! */
static const double C4 = 0x1.5555555555555p-5; /* 1/4! */
static const double C5 = 0x1.1111111111111p-7; /* 1/5! */
static const double C6 = 0x1.6c16c16c16c17p-10; /* 1/6! */
static const double C7 = 0x1.a01a01a01a01ap-13; /* 1/7! */
/* 2^(j/16) = EXP_HI[j] (1 + EXP_TAIL[j]) */
static const double EXP_HI[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0,
    0x1.2387a6e756238p+0, 0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0,
    0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0, 0x1.6a09e667f3bcdp+0,
    0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0,
    0x1.ea4afa2a490dap+0,
};
static const double EXP_TAIL[16] = {
    0x0.0p+0, 0x1.79aa65d837b6dp-54, -0x1.01b15eaa59348p-55,
    0x1.68efde3a8a894p-54, 0x1.34d754db0abb6p-55, 0x1.59f48a72a4c6dp-55,
    0x1.690cebb7aafb0p-56, 0x1.063e1e21c5409p-54, -0x1.3b3efbf5e2228p-54,
    -0x1.b32dcb94da51dp-56, 0x1.db72fc1f0eab4p-55, 0x1.1affc2b91ce27p-56,
    0x1.c1a7792cb3387p-55, 0x1.36eae30af0cb3p-56, 0x1.4a385a63d07a7p-56,
    -0x1.ff7128fd391f0p-55,
};
static const double SHIFT = 0x1.8p52; /* adding it rounds to an integer held in the low bits */

SK_INLINE uint64_t as_u64(double x) {
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

SK_INLINE double as_f64(uint64_t u) {
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* exp of one argument: x = (16 m + j) ln2/16 + r with |r| <= ln2/32, exp(x) = 2^m 2^(j/16) e^r.
 * Branch-free integer work on the bits of k = 16 m + j (no 64-bit conversions or arithmetic
 * shifts, which AVX2 lacks), so that the loop vectorises. 2^m is applied as two exact factors
 * 2^(m + o) 2^-o, each normal: o = 200 below m = -1000 and -200 above m = 1000 (else 0); only
 * the last multiplication rounds (once, also when the result is subnormal, zero or infinite).
 * Beyond [-800, 800] the result is selected (0 resp. inf) at the end rather than the argument
 * clamped first: a clamp lets the compiler split the loop into paths, which stops it from
 * vectorising the table loads. NaN stays NaN. */
SK_INLINE double exp1(double x) {
    const uint64_t shift_bits = as_u64(SHIFT);
    double kd = x * INVLN2N + SHIFT;
    uint64_t ki = as_u64(kd);
    kd -= SHIFT;
    double r = x + kd * NEGLN2HIN + kd * NEGLN2LON;
    int64_t j = (int64_t)(ki & 15);
    int64_t km = (int64_t)((ki - (uint64_t)j) - shift_bits); /* 16 m */
    double p = r + (r * r) * (C2 + r * (C3 + r * (C4 + r * (C5 + r * (C6 + r * C7)))));
    double th = EXP_HI[j];
    double y = th + th * (EXP_TAIL[j] + p); /* 2^(j/16) e^r, in [0.97, 2) */
    int64_t o = km < -16000 ? 200 : (km > 16000 ? -200 : 0);
    double s1 = as_f64(((uint64_t)km << 48) + ((uint64_t)(1023 + o) << 52));
    double s2 = as_f64((uint64_t)(1023 - o) << 52);
    double res = (y * s1) * s2;
    res = x < -800.0 ? 0.0 : res;
    return x > 800.0 ? (double)INFINITY : res;
}

#if SK_HAVE_CLONES
#include <immintrin.h>
static int sk_avx512 = -1; /* set once at import */

/* exp1 on 8 lanes with AVX-512F: the same operations in the same order (so the same bits), the
 * table read with two-register permutes instead of loads. */
__attribute__((target("avx512f"))) static void vexp_avx512(const double *a, double *e,
                                                            size_t len) {
    const __m512d invln2n = _mm512_set1_pd(INVLN2N), shift = _mm512_set1_pd(SHIFT);
    const __m512d neghi = _mm512_set1_pd(NEGLN2HIN), neglo = _mm512_set1_pd(NEGLN2LON);
    const __m512d c2 = _mm512_set1_pd(C2), c3 = _mm512_set1_pd(C3), c4 = _mm512_set1_pd(C4);
    const __m512d c5 = _mm512_set1_pd(C5), c6 = _mm512_set1_pd(C6), c7 = _mm512_set1_pd(C7);
    const __m512d h0 = _mm512_loadu_pd(EXP_HI), h1 = _mm512_loadu_pd(EXP_HI + 8);
    const __m512d t0 = _mm512_loadu_pd(EXP_TAIL), t1 = _mm512_loadu_pd(EXP_TAIL + 8);
    const __m512i shift_bits = _mm512_set1_epi64((long long)as_u64(SHIFT));
    const __m512i fifteen = _mm512_set1_epi64(15);
    const __m512i lo_lim = _mm512_set1_epi64(-16000), hi_lim = _mm512_set1_epi64(16000);
    const __m512i b0 = _mm512_set1_epi64(1023LL << 52);
    const __m512i bup = _mm512_set1_epi64((1023LL + 200) << 52);
    const __m512i bdown = _mm512_set1_epi64((1023LL - 200) << 52);
    const __m512d lo_x = _mm512_set1_pd(-800.0), hi_x = _mm512_set1_pd(800.0);
    const __m512d zero = _mm512_setzero_pd(), inf = _mm512_set1_pd((double)INFINITY);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        __m512d x = _mm512_loadu_pd(a + i);
        __m512d kd = _mm512_add_pd(_mm512_mul_pd(x, invln2n), shift);
        __m512i ki = _mm512_castpd_si512(kd);
        kd = _mm512_sub_pd(kd, shift);
        __m512d r = _mm512_add_pd(_mm512_add_pd(x, _mm512_mul_pd(kd, neghi)),
                                  _mm512_mul_pd(kd, neglo));
        __m512i j = _mm512_and_si512(ki, fifteen);
        __m512i km = _mm512_sub_epi64(_mm512_sub_epi64(ki, j), shift_bits);
        __m512d q = _mm512_add_pd(c6, _mm512_mul_pd(r, c7));
        q = _mm512_add_pd(c5, _mm512_mul_pd(r, q));
        q = _mm512_add_pd(c4, _mm512_mul_pd(r, q));
        q = _mm512_add_pd(c3, _mm512_mul_pd(r, q));
        q = _mm512_add_pd(c2, _mm512_mul_pd(r, q));
        __m512d p = _mm512_add_pd(r, _mm512_mul_pd(_mm512_mul_pd(r, r), q));
        __m512d th = _mm512_permutex2var_pd(h0, j, h1);
        __m512d tl = _mm512_permutex2var_pd(t0, j, t1);
        __m512d y = _mm512_add_pd(th, _mm512_mul_pd(th, _mm512_add_pd(tl, p)));
        __mmask8 below = _mm512_cmplt_epi64_mask(km, lo_lim);
        __mmask8 above = _mm512_cmpgt_epi64_mask(km, hi_lim);
        __m512i bias1 = _mm512_mask_mov_epi64(_mm512_mask_mov_epi64(b0, above, bdown), below, bup);
        __m512i bias2 = _mm512_mask_mov_epi64(_mm512_mask_mov_epi64(b0, above, bup), below, bdown);
        __m512d s1 = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_slli_epi64(km, 48), bias1));
        __m512d s2 = _mm512_castsi512_pd(bias2);
        __m512d res = _mm512_mul_pd(_mm512_mul_pd(y, s1), s2);
        res = _mm512_mask_mov_pd(res, _mm512_cmp_pd_mask(x, lo_x, _CMP_LT_OQ), zero);
        res = _mm512_mask_mov_pd(res, _mm512_cmp_pd_mask(x, hi_x, _CMP_GT_OQ), inf);
        _mm512_storeu_pd(e + i, res);
    }
    for (; i < len; i++) e[i] = exp1(a[i]);
}
#endif

/* e[i] = exp(a[i]) (within 0.55 ulp; exact at 0; gradual underflow). */
SK_INLINE void vexp(const double *SK_RESTRICT a, double *SK_RESTRICT e, size_t len) {
#if SK_HAVE_CLONES
    if (sk_avx512 > 0) {
        vexp_avx512(a, e, len);
        return;
    }
#endif
    for (size_t i = 0; i < len; i++) e[i] = exp1(a[i]);
}

/* Kahan step: (s, c) absorbs y; s - c is the compensated sum. */
#define KAHAN(s, c, yv)                                                                        \
    do {                                                                                       \
        double y_ = (yv) - (c);                                                                \
        double t_ = (s) + y_;                                                                  \
        (c) = (t_ - (s)) - y_;                                                                 \
        (s) = t_;                                                                              \
    } while (0)

/* The division by a positive finite temperature in double-word arithmetic, exactly as
 * softmaxkit._base.kernel.divide_dw does it for a Python-float T in float64. */
typedef struct {
    double pre, tm, bh, bl, f1, f2;
    int post;
} DivT;

static void divt_init(DivT *d, double t) {
    int expo;
    double mant = frexp(t, &expo);
    d->pre = 1.0;
    d->post = 0;
    if (expo > 0) {
        d->pre = ldexp(1.0, -expo);
    } else {
        d->post = -expo;
    }
    d->tm = mant;
    double tb = 134217729.0 * mant;
    d->bh = tb - (tb - mant);
    d->bl = mant - d->bh;
    int half = d->post / 2;
    d->f1 = ldexp(1.0, half);
    d->f2 = ldexp(1.0, d->post - half);
}

SK_INLINE void divide_dw(const DivT *d, double *hi, double *lo) {
    double h = *hi, l = *lo;
    if (d->post == 0) {
        h = h * d->pre;
        l = l * d->pre;
    }
    double q = h / d->tm;
    double qc = q > 0.0 ? 0.0 : q;
    qc = qc < -1.0e30 ? -1.0e30 : qc;
    double p = qc * d->tm;
    double tt = 134217729.0 * qc;
    double ah = tt - (tt - qc);
    double al = qc - ah;
    double e = ((ah * d->bh - p) + ah * d->bl + al * d->bh) + al * d->bl;
    double num = ((h - p) - e) + l;
    double r = num / d->tm;
    r = q < -1.0e30 ? 0.0 : r;
    if (d->post != 0) {
        q = (q * d->f1) * d->f2;
        r = (r * d->f1) * d->f2;
    }
    r = q < -1.0e5 ? 0.0 : r;
    *hi = q;
    *lo = r;
}

typedef struct {
    const void *x;
    void *out;
    unsigned char *bad;
    Py_ssize_t n;
    int mode, in_double, out_double, has_t;
    double t;
    DivT div;
    int unshifted_ok;
    double high;
} Job;

typedef struct {
    double *v, *a, *e, *hi, *lo, *o, *keep;        /* wide rows */
    double *xt, *et, *ht, *lt, *ot;                /* narrow blocks, n x RBLOCK */
    double *mx, *mn, *nz, *s, *c, *top, *r1, *r2, *r3; /* per row of a block */
    unsigned char *cls;
    void *mem;
} Scratch;

static int scratch_alloc(Scratch *w, const Job *job) {
    size_t n = (size_t)job->n;
    size_t keep = (job->mode == MODE_SOFTMAX && n > NARROW && n <= KEEP_MAX) ? n : 0;
    size_t blk = n <= NARROW ? n * RBLOCK : 0;
    size_t total = 7 * CHUNK + keep + 5 * blk + 9 * RBLOCK + RBLOCK / 8 + 8;
    double *p = (double *)malloc(total * sizeof(double));
    if (p == NULL) return -1;
    w->mem = p;
    w->v = p; p += CHUNK;
    w->a = p; p += CHUNK;
    w->e = p; p += CHUNK;
    w->hi = p; p += CHUNK;
    w->lo = p; p += CHUNK;
    w->o = p; p += CHUNK;
    p += CHUNK;
    w->keep = keep ? p : NULL; p += keep;
    w->xt = p; p += blk;
    w->et = p; p += blk;
    w->ht = p; p += blk;
    w->lt = p; p += blk;
    w->ot = p; p += blk;
    w->mx = p; p += RBLOCK;
    w->mn = p; p += RBLOCK;
    w->nz = p; p += RBLOCK;
    w->s = p; p += RBLOCK;
    w->c = p; p += RBLOCK;
    w->top = p; p += RBLOCK;
    w->r1 = p; p += RBLOCK;
    w->r2 = p; p += RBLOCK;
    w->r3 = p; p += RBLOCK;
    w->cls = (unsigned char *)p;
    return 0;
}

/* Input elements [off, off + len) of row `row` as doubles (float64 input: no copy). */
SK_INLINE const double *load(const Job *job, Py_ssize_t row, size_t off, size_t len,
                             double *buf) {
    if (job->in_double) return (const double *)job->x + (size_t)row * job->n + off;
    const float *src = (const float *)job->x + (size_t)row * job->n + off;
    for (size_t i = 0; i < len; i++) buf[i] = (double)src[i];
    return buf;
}

/* Where to compute output elements [off, off + len): the output itself for float64. */
SK_INLINE double *out_slot(const Job *job, Py_ssize_t row, size_t off, double *buf) {
    if (job->out_double) return (double *)job->out + (size_t)row * job->n + off;
    return buf;
}

SK_INLINE void out_commit(const Job *job, Py_ssize_t row, size_t off, size_t len,
                          const double *buf) {
    if (job->out_double) return;
    float *dst = (float *)job->out + (size_t)row * job->n + off;
    for (size_t i = 0; i < len; i++) dst[i] = (float)buf[i];
}

SK_INLINE void put_lse(const Job *job, Py_ssize_t row, double v) {
    if (job->out_double)
        ((double *)job->out)[row] = v;
    else
        ((float *)job->out)[row] = (float)v;
}

/* x / T into a (returned), or x itself at T = 1. */
SK_INLINE const double *scaled(const Job *job, const double *v, double *a, size_t len) {
    if (!job->has_t) return v;
    double t = job->t;
    for (size_t i = 0; i < len; i++) a[i] = v[i] / t;
    return a;
}

/* The shifted pieces: hi + lo = (x - m) / T, and e = exp(hi) (1 + lo) (float64 input). */
SK_INLINE void shifted(const Job *job, const double *v, size_t len, double m, double *hi,
                       double *lo, double *e) {
    if (job->in_double) {
        for (size_t i = 0; i < len; i++) {
            double h = v[i] - m; /* TwoSum: v - m = h + l exactly */
            double bb = h - v[i];
            double l = v[i] - (h - bb);
            l = l - (bb + m);
            hi[i] = h;
            lo[i] = l;
        }
        if (job->has_t) {
            for (size_t i = 0; i < len; i++) divide_dw(&job->div, &hi[i], &lo[i]);
        }
        vexp(hi, e, len);
        for (size_t i = 0; i < len; i++) e[i] = e[i] + e[i] * lo[i];
    } else {
        if (job->has_t) {
            double t = job->t;
            for (size_t i = 0; i < len; i++) hi[i] = (v[i] - m) / t;
        } else {
            for (size_t i = 0; i < len; i++) hi[i] = v[i] - m;
        }
        for (size_t i = 0; i < len; i++) lo[i] = 0.0;
        vexp(hi, e, len);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Wide rows: LANES accumulators, element i of the row going to lane i % LANES                 */

/* A vector of VW doubles: GCC/Clang vector extensions (lowered to AVX-512, AVX2 or SSE2 by each
 * clone, lane by lane the same IEEE operations), or plain arrays elsewhere (MSVC). */
#define VW 8
#define NV (LANES / VW)
#if defined(__GNUC__) || defined(__clang__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi" /* the vector helpers are always inlined */
#endif
typedef double vd __attribute__((vector_size(VW * 8), aligned(8)));
typedef long long vi __attribute__((vector_size(VW * 8), aligned(8)));
SK_INLINE vd vload(const double *p) { vd v; memcpy(&v, p, sizeof v); return v; }
SK_INLINE void vstore(double *p, vd v) { memcpy(p, &v, sizeof v); }
SK_INLINE vd vsplat(double x) { vd v = {x, x, x, x, x, x, x, x}; return v; }
SK_INLINE vd vadd(vd a, vd b) { return a + b; }
SK_INLINE vd vsub(vd a, vd b) { return a - b; }
SK_INLINE vd vmul(vd a, vd b) { return a * b; }
SK_INLINE vd vmax(vd a, vd b) { vi m = (vi)(a > b); return (vd)(((vi)a & m) | ((vi)b & ~m)); }
SK_INLINE vd vmin(vd a, vd b) { vi m = (vi)(a < b); return (vd)(((vi)a & m) | ((vi)b & ~m)); }
#else
typedef struct { double v[VW]; } vd;
SK_INLINE vd vload(const double *p) { vd r; memcpy(r.v, p, sizeof r.v); return r; }
SK_INLINE void vstore(double *p, vd v) { memcpy(p, v.v, sizeof v.v); }
SK_INLINE vd vsplat(double x) { vd r; for (int k = 0; k < VW; k++) r.v[k] = x; return r; }
#define SK_VOP(name, expr)                                                                     \
    SK_INLINE vd name(vd a, vd b) {                                                            \
        vd r;                                                                                  \
        for (int k = 0; k < VW; k++) r.v[k] = (expr);                                          \
        return r;                                                                              \
    }
SK_VOP(vadd, a.v[k] + b.v[k])
SK_VOP(vsub, a.v[k] - b.v[k])
SK_VOP(vmul, a.v[k] * b.v[k])
SK_VOP(vmax, a.v[k] > b.v[k] ? a.v[k] : b.v[k])
SK_VOP(vmin, a.v[k] < b.v[k] ? a.v[k] : b.v[k])
#endif

typedef struct {
    vd mx[NV], mn[NV], nz[NV], s[NV], c[NV], top[NV];
} Lanes;

SK_INLINE void lanes_init(Lanes *L) {
    for (int q = 0; q < NV; q++) {
        L->mx[q] = vsplat(-INFINITY);
        L->mn[q] = vsplat(INFINITY);
        L->nz[q] = vsplat(0.0);
        L->s[q] = vsplat(0.0);
        L->c[q] = vsplat(0.0);
        L->top[q] = vsplat(0.0);
    }
}

/* The last len % LANES elements, padded to LANES with `pad` (a value that leaves the
 * accumulators as they are), so that every step covers whole lanes. */
SK_INLINE const double *padded_tail(const double *v, size_t len, size_t *full, double pad,
                                    double *buf) {
    size_t rem = len % LANES;
    *full = len - rem;
    if (rem == 0) return NULL;
    for (size_t k = 0; k < LANES; k++) buf[k] = k < rem ? v[*full + k] : pad;
    return buf;
}

SK_INLINE void minmax_step(Lanes *L, const double *v) {
    const vd zero = vsplat(0.0);
    for (int q = 0; q < NV; q++) {
        vd a = vload(v + q * VW);
        L->mx[q] = vmax(a, L->mx[q]);
        L->mn[q] = vmin(a, L->mn[q]);
        L->nz[q] = vadd(L->nz[q], vmul(a, zero)); /* NaN once any entry is NaN or infinite */
    }
}

SK_INLINE void lanes_minmax(Lanes *L, const double *v, size_t len) {
    double buf[LANES];
    size_t full = len - len % LANES;
    /* padding with a copy of a tail element changes neither the range nor the NaN test */
    const double *tail = full < len ? padded_tail(v, len, &full, v[full], buf) : NULL;
    for (size_t i = 0; i < full; i += LANES) minmax_step(L, v + i);
    if (tail) minmax_step(L, tail);
}

/* Kahan: (s, c) absorbs y, lane by lane. */
SK_INLINE void kahan_v(vd *s, vd *c, vd y) {
    vd yy = vsub(y, *c);
    vd t = vadd(*s, yy);
    *c = vsub(vsub(t, *s), yy);
    *s = t;
}

SK_INLINE void lanes_sum(Lanes *L, const double *e, size_t len) {
    double buf[LANES];
    size_t full;
    const double *tail = padded_tail(e, len, &full, 0.0, buf);
    for (size_t i = 0; i < full; i += LANES)
        for (int q = 0; q < NV; q++) kahan_v(&L->s[q], &L->c[q], vload(e + i + q * VW));
    if (tail)
        for (int q = 0; q < NV; q++) kahan_v(&L->s[q], &L->c[q], vload(tail + q * VW));
}

/* Running (largest, sum of the others) per lane (terms are >= 0; padding 0 changes nothing
 * but the order of the Kahan corrections, which depends on the row length alone). */
SK_INLINE void top_rest_step(Lanes *L, const double *e) {
    for (int q = 0; q < NV; q++) {
        vd a = vload(e + q * VW);
        vd lo = vmin(a, L->top[q]);
        L->top[q] = vmax(a, L->top[q]);
        kahan_v(&L->s[q], &L->c[q], lo);
    }
}

SK_INLINE void lanes_top_rest(Lanes *L, const double *e, size_t len) {
    double buf[LANES];
    size_t full;
    const double *tail = padded_tail(e, len, &full, 0.0, buf);
    for (size_t i = 0; i < full; i += LANES) top_rest_step(L, e + i);
    if (tail) top_rest_step(L, tail);
}

SK_INLINE void lanes_out(const vd *v, double *out) {
    for (int q = 0; q < NV; q++) vstore(out + q * VW, v[q]);
}

SK_INLINE double lanes_total(const Lanes *L) {
    double ls[LANES], lc[LANES];
    lanes_out(L->s, ls);
    lanes_out(L->c, lc);
    double s = 0.0, c = 0.0;
    for (int l = 0; l < LANES; l++) KAHAN(s, c, ls[l] - lc[l]);
    return s - c;
}

/* (largest term, sum of all the others) from lanes_top_rest. */
SK_INLINE void lanes_top_total(const Lanes *L, double *top, double *rest) {
    double ls[LANES], lc[LANES], lt[LANES];
    lanes_out(L->s, ls);
    lanes_out(L->c, lc);
    lanes_out(L->top, lt);
    int k = 0;
    for (int l = 1; l < LANES; l++) k = lt[l] > lt[k] ? l : k;
    double s = 0.0, c = 0.0;
    for (int l = 0; l < LANES; l++) {
        KAHAN(s, c, ls[l] - lc[l]);
        if (l != k) KAHAN(s, c, lt[l]);
    }
    *top = lt[k];
    *rest = s - c;
}

SK_INLINE void lanes_range(const Lanes *L, double *mx, double *mn, double *nz) {
    double a[LANES], b[LANES], z[LANES];
    lanes_out(L->mx, a);
    lanes_out(L->mn, b);
    lanes_out(L->nz, z);
    *mx = -INFINITY;
    *mn = INFINITY;
    *nz = 0.0;
    for (int l = 0; l < LANES; l++) {
        *mx = a[l] > *mx ? a[l] : *mx;
        *mn = b[l] < *mn ? b[l] : *mn;
        *nz += z[l];
    }
}

/* hi + lo = m + L as a double word (so that x/T - (m + L) rounds once). */
SK_INLINE void two_sum(double m, double big_l, double *hi, double *lo) {
    double h = m + big_l;
    double bb = h - m;
    *lo = (m - (h - bb)) + (big_l - bb);
    *hi = h;
}

/* One row longer than NARROW. Returns 1 when the row needs the generic kernel. */
SK_INLINE int wide_row(const Job *job, Scratch *w, Py_ssize_t row) {
    const size_t n = (size_t)job->n;
    Lanes L;
    lanes_init(&L);
    const int fused = job->unshifted_ok;
    /* Pass 1: range, and (when the row may be unshifted) the sums of exp(x/T) on the way. */
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t len = n - off < CHUNK ? n - off : CHUNK;
        const double *v = load(job, row, off, len, w->v);
        lanes_minmax(&L, v, len);
        if (fused) {
            double *e = w->keep ? w->keep + off : w->e;
            vexp(scaled(job, v, w->a, len), e, len);
            if (job->mode == MODE_SOFTMAX)
                lanes_sum(&L, e, len);
            else
                lanes_top_rest(&L, e, len);
        }
    }
    double mx, mn, nz;
    lanes_range(&L, &mx, &mn, &nz);
    if (nz != 0.0 || nz != nz || !isfinite(mx - mn)) return 1;
    double lo_v = job->has_t ? mn / job->t : mn, hi_v = job->has_t ? mx / job->t : mx;
    if (fused && lo_v >= -700.0 && hi_v <= job->high) {
        if (job->mode == MODE_SOFTMAX) {
            double total = lanes_total(&L);
            double rinv = 1.0 / total;
            for (size_t off = 0; off < n; off += CHUNK) {
                size_t len = n - off < CHUNK ? n - off : CHUNK;
                const double *e;
                if (w->keep) {
                    e = w->keep + off;
                } else {
                    const double *v = load(job, row, off, len, w->v);
                    vexp(scaled(job, v, w->a, len), w->e, len);
                    e = w->e;
                }
                double *o = out_slot(job, row, off, w->o);
                if (job->out_double)
                    for (size_t i = 0; i < len; i++) o[i] = e[i] / total;
                else
                    for (size_t i = 0; i < len; i++) o[i] = e[i] * rinv;
                out_commit(job, row, off, len, o);
            }
            return 0;
        }
        double top, rest;
        lanes_top_total(&L, &top, &rest);
        double big_l = log1p(rest / top);
        if (job->mode == MODE_LSE) {
            put_lse(job, row, mx + (job->has_t ? job->t * big_l : big_l));
            return 0;
        }
        double m = job->has_t ? mx / job->t : mx, hi, lo;
        two_sum(m, big_l, &hi, &lo);
        for (size_t off = 0; off < n; off += CHUNK) {
            size_t len = n - off < CHUNK ? n - off : CHUNK;
            const double *v = load(job, row, off, len, w->v);
            double *o = out_slot(job, row, off, w->o);
            if (job->has_t) {
                double t = job->t;
                for (size_t i = 0; i < len; i++) o[i] = (v[i] / t - hi) - lo;
            } else {
                for (size_t i = 0; i < len; i++) o[i] = (v[i] - hi) - lo;
            }
            out_commit(job, row, off, len, o);
        }
        return 0;
    }
    /* Shifted: the sums again, relative to the maximum. */
    lanes_init(&L);
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t len = n - off < CHUNK ? n - off : CHUNK;
        const double *v = load(job, row, off, len, w->v);
        shifted(job, v, len, mx, w->hi, w->lo, w->e);
        if (job->mode == MODE_SOFTMAX)
            lanes_sum(&L, w->e, len);
        else
            lanes_top_rest(&L, w->e, len);
    }
    double total = 0.0, big_l = 0.0;
    if (job->mode == MODE_SOFTMAX) {
        total = lanes_total(&L);
    } else {
        double top, rest;
        lanes_top_total(&L, &top, &rest); /* top == exp(0) == 1 */
        big_l = log1p(rest);
        if (job->mode == MODE_LSE) {
            put_lse(job, row, mx + (job->has_t ? job->t * big_l : big_l));
            return 0;
        }
    }
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t len = n - off < CHUNK ? n - off : CHUNK;
        const double *v = load(job, row, off, len, w->v);
        shifted(job, v, len, mx, w->hi, w->lo, w->e);
        double *o = out_slot(job, row, off, w->o);
        if (job->mode == MODE_SOFTMAX) {
            for (size_t i = 0; i < len; i++) o[i] = w->e[i] / total;
        } else {
            for (size_t i = 0; i < len; i++) o[i] = (w->hi[i] - big_l) + w->lo[i];
        }
        out_commit(job, row, off, len, o);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Narrow rows: blocks of RBLOCK rows, transposed, every per-row operation a vector over rows */

/* The sums over the columns of et (rows r < rb): softmax total in s, or the largest term in
 * top and the others' sum in s; sequential Kahan over j, the same for every row. */
SK_INLINE void columns_sums(const Job *job, Scratch *w, size_t rb) {
    const size_t n = (size_t)job->n;
    for (size_t r = 0; r < rb; r++) {
        w->s[r] = 0.0;
        w->c[r] = 0.0;
        w->top[r] = 0.0;
    }
    for (size_t j = 0; j < n; j++) {
        const double *e = w->et + j * RBLOCK;
        if (job->mode == MODE_SOFTMAX) {
            for (size_t r = 0; r < rb; r++) KAHAN(w->s[r], w->c[r], e[r]);
        } else {
            for (size_t r = 0; r < rb; r++) {
                double a = e[r];
                double lo = a < w->top[r] ? a : w->top[r];
                w->top[r] = a > w->top[r] ? a : w->top[r];
                KAHAN(w->s[r], w->c[r], lo);
            }
        }
    }
    for (size_t r = 0; r < rb; r++) w->s[r] = w->s[r] - w->c[r];
}

/* Results of the rows of class `want` (unshifted 0, shifted 1) into ot / r1 (lse); `pure`: no
 * row of the block has the other class (the rest, if any, is flagged and never stored), so
 * every row may be written. */
SK_INLINE void narrow_pass(const Job *job, Scratch *w, size_t rb, int want, int pure) {
    const size_t n = (size_t)job->n;
    if (want == 0) {
        for (size_t j = 0; j < n; j++) {
            const double *a = scaled(job, w->xt + j * RBLOCK, w->ht + j * RBLOCK, rb);
            if (a != w->ht + j * RBLOCK) memcpy(w->ht + j * RBLOCK, a, rb * sizeof(double));
        }
        for (size_t j = 0; j < n; j++) vexp(w->ht + j * RBLOCK, w->et + j * RBLOCK, rb);
    } else {
        for (size_t j = 0; j < n; j++) {
            /* the row maximum varies along r: shift column by column */
            double *h = w->ht + j * RBLOCK, *l = w->lt + j * RBLOCK, *e = w->et + j * RBLOCK;
            const double *v = w->xt + j * RBLOCK;
            if (job->in_double) {
                for (size_t r = 0; r < rb; r++) {
                    double m = w->mx[r];
                    double hh = v[r] - m;
                    double bb = hh - v[r];
                    double ll = v[r] - (hh - bb);
                    l[r] = ll - (bb + m);
                    h[r] = hh;
                }
                if (job->has_t)
                    for (size_t r = 0; r < rb; r++) divide_dw(&job->div, &h[r], &l[r]);
                vexp(h, e, rb);
                for (size_t r = 0; r < rb; r++) e[r] = e[r] + e[r] * l[r];
            } else {
                if (job->has_t)
                    for (size_t r = 0; r < rb; r++) h[r] = (v[r] - w->mx[r]) / job->t;
                else
                    for (size_t r = 0; r < rb; r++) h[r] = v[r] - w->mx[r];
                for (size_t r = 0; r < rb; r++) l[r] = 0.0;
                vexp(h, e, rb);
            }
        }
    }
    columns_sums(job, w, rb);
    const double t = job->t;
    if (job->mode == MODE_SOFTMAX) {
        /* unshifted: float64 output divides, float32 multiplies by the reciprocal (the float64
         * rounding vanishes in the cast); shifted divides */
        int divide = want == 1 || job->out_double;
        if (!divide)
            for (size_t r = 0; r < rb; r++) w->r2[r] = 1.0 / w->s[r];
        for (size_t j = 0; j < n; j++) {
            const double *e = w->et + j * RBLOCK;
            double *o = w->ot + j * RBLOCK;
            if (divide) {
                if (pure)
                    for (size_t r = 0; r < rb; r++) o[r] = e[r] / w->s[r];
                else
                    for (size_t r = 0; r < rb; r++)
                        if (w->cls[r] == want) o[r] = e[r] / w->s[r];
            } else {
                if (pure)
                    for (size_t r = 0; r < rb; r++) o[r] = e[r] * w->r2[r];
                else
                    for (size_t r = 0; r < rb; r++)
                        if (w->cls[r] == want) o[r] = e[r] * w->r2[r];
            }
        }
        return;
    }
    /* big_l per row, then lse or (for log_softmax) the double word hi + lo in r2, r3 */
    for (size_t r = 0; r < rb; r++) {
        if (!pure && w->cls[r] != want) continue;
        double big_l = want == 0 ? log1p(w->s[r] / w->top[r]) : log1p(w->s[r]);
        double mx = w->mx[r];
        if (job->mode == MODE_LSE) {
            w->r1[r] = mx + (job->has_t ? t * big_l : big_l);
        } else if (want == 0) {
            two_sum(job->has_t ? mx / t : mx, big_l, &w->r2[r], &w->r3[r]);
        } else {
            w->r2[r] = big_l;
        }
    }
    if (job->mode == MODE_LSE) return;
    for (size_t j = 0; j < n; j++) {
        double *o = w->ot + j * RBLOCK;
        if (want == 0) {
            const double *a = w->ht + j * RBLOCK; /* x / T */
            if (pure)
                for (size_t r = 0; r < rb; r++) o[r] = (a[r] - w->r2[r]) - w->r3[r];
            else
                for (size_t r = 0; r < rb; r++)
                    if (w->cls[r] == 0) o[r] = (a[r] - w->r2[r]) - w->r3[r];
        } else {
            const double *h = w->ht + j * RBLOCK, *l = w->lt + j * RBLOCK;
            if (pure)
                for (size_t r = 0; r < rb; r++) o[r] = (h[r] - w->r2[r]) + l[r];
            else
                for (size_t r = 0; r < rb; r++)
                    if (w->cls[r] == 1) o[r] = (h[r] - w->r2[r]) + l[r];
        }
    }
}

SK_INLINE Py_ssize_t narrow_block(const Job *job, Scratch *w, Py_ssize_t r0, size_t rb) {
    const size_t n = (size_t)job->n;
    /* transposed load */
    if (job->in_double) {
        const double *x = (const double *)job->x + (size_t)r0 * n;
        for (size_t r = 0; r < rb; r++)
            for (size_t j = 0; j < n; j++) w->xt[j * RBLOCK + r] = x[r * n + j];
    } else {
        const float *x = (const float *)job->x + (size_t)r0 * n;
        for (size_t r = 0; r < rb; r++)
            for (size_t j = 0; j < n; j++) w->xt[j * RBLOCK + r] = (double)x[r * n + j];
    }
    for (size_t r = 0; r < rb; r++) {
        w->mx[r] = w->xt[r];
        w->mn[r] = w->xt[r];
        w->nz[r] = w->xt[r] * 0.0;
    }
    for (size_t j = 1; j < n; j++) {
        const double *v = w->xt + j * RBLOCK;
        for (size_t r = 0; r < rb; r++) {
            double a = v[r];
            w->mx[r] = a > w->mx[r] ? a : w->mx[r];
            w->mn[r] = a < w->mn[r] ? a : w->mn[r];
            w->nz[r] += a * 0.0;
        }
    }
    size_t count[3] = {0, 0, 0};
    for (size_t r = 0; r < rb; r++) {
        double mx = w->mx[r], mn = w->mn[r], nz = w->nz[r];
        int cls;
        if (nz != 0.0 || nz != nz || !isfinite(mx - mn)) {
            cls = 2;
        } else {
            double lo = job->has_t ? mn / job->t : mn, hi = job->has_t ? mx / job->t : mx;
            cls = (job->unshifted_ok && lo >= -700.0 && hi <= job->high) ? 0 : 1;
        }
        w->cls[r] = (unsigned char)cls;
        count[cls]++;
    }
    if (count[0]) narrow_pass(job, w, rb, 0, count[1] == 0);
    if (count[1]) narrow_pass(job, w, rb, 1, count[0] == 0);
    for (size_t r = 0; r < rb; r++) {
        if (w->cls[r] == 2) {
            job->bad[r0 + r] = 1;
            continue;
        }
        if (job->mode == MODE_LSE) {
            put_lse(job, r0 + (Py_ssize_t)r, w->r1[r]);
        } else if (job->out_double) {
            double *o = (double *)job->out + (size_t)(r0 + r) * n;
            for (size_t j = 0; j < n; j++) o[j] = w->ot[j * RBLOCK + r];
        } else {
            float *o = (float *)job->out + (size_t)(r0 + r) * n;
            for (size_t j = 0; j < n; j++) o[j] = (float)w->ot[j * RBLOCK + r];
        }
    }
    return (Py_ssize_t)count[2];
}

/* Rows [r0, r1): the whole kernel, compiled once per instruction set. */
SK_CLONES static Py_ssize_t run_rows(const Job *job, Scratch *w, Py_ssize_t r0, Py_ssize_t r1) {
    Py_ssize_t bad = 0;
    if (job->n <= NARROW) {
        for (Py_ssize_t r = r0; r < r1; r += RBLOCK) {
            size_t rb = (size_t)(r1 - r < RBLOCK ? r1 - r : RBLOCK);
            bad += narrow_block(job, w, r, rb);
        }
        return bad;
    }
    for (Py_ssize_t r = r0; r < r1; r++) {
        if (wide_row(job, w, r)) {
            job->bad[r] = 1;
            bad++;
        }
    }
    return bad;
}

SK_CLONES static void run_exp(const double *a, double *e, size_t len) { vexp(a, e, len); }

/* ---------------------------------------------------------------------------------------- */
/* Python interface                                                                         */

static int get_buffer(PyObject *obj, Py_buffer *view, int writable, const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) != 0) return -1;
    const char *f = view->format ? view->format : "B";
    char last = f[0] ? f[strlen(f) - 1] : 'B';
    int native_order = f[0] != '>' && f[0] != '!';
    if (!native_order || !((last == 'd' && view->itemsize == 8) ||
                           (last == 'f' && view->itemsize == 4) ||
                           (last == 'B' && view->itemsize == 1 && strcmp(name, "bad") == 0))) {
        PyErr_Format(PyExc_TypeError,
                     "%s: expected a C-contiguous native float64 or float32 buffer "
                     "(uint8 for bad), got format '%s' of itemsize %zd",
                     name, f, view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(rows_doc,
"rows(x, out, n, mode, t, bad, r0, r1) -> int\n\n"
"Compute rows r0:r1 of the map `mode` (0 softmax, 1 log_softmax, 2 logsumexp) over rows of\n"
"length n of the C-ordered float64/float32 buffer x into out (n per row, or 1 for\n"
"logsumexp), at temperature t (None for T = 1, else a positive finite float). Rows that need\n"
"the generic kernel (NaN, +-inf, a spread beyond the float range) are left unwritten and\n"
"marked 1 in the uint8 buffer bad; their number is returned. The GIL is released.");

static PyObject *py_rows(PyObject *self, PyObject *args) {
    PyObject *xo, *oo, *to, *bo;
    Py_ssize_t n, r0, r1;
    int mode;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOniOOnn", &xo, &oo, &n, &mode, &to, &bo, &r0, &r1))
        return NULL;
    if (mode < 0 || mode > 2 || n < 1) {
        PyErr_Format(PyExc_ValueError, "mode must be 0, 1 or 2 and n >= 1, got mode=%d n=%zd",
                     mode, n);
        return NULL;
    }
    Job job;
    memset(&job, 0, sizeof job);
    job.n = n;
    job.mode = mode;
    if (to != Py_None) {
        job.t = PyFloat_AsDouble(to);
        if (job.t == -1.0 && PyErr_Occurred()) return NULL;
        if (!(job.t > 0.0) || !isfinite(job.t)) {
            PyErr_Format(PyExc_ValueError, "t must be a positive finite float or None, got %R",
                         to);
            return NULL;
        }
        job.has_t = 1;
        divt_init(&job.div, job.t);
    }
    Py_buffer xv, ov, bv;
    if (get_buffer(xo, &xv, 0, "x") != 0) return NULL;
    if (get_buffer(oo, &ov, 1, "out") != 0) {
        PyBuffer_Release(&xv);
        return NULL;
    }
    if (get_buffer(bo, &bv, 1, "bad") != 0) {
        PyBuffer_Release(&xv);
        PyBuffer_Release(&ov);
        return NULL;
    }
    Py_ssize_t nrows = xv.len / xv.itemsize / n;
    Py_ssize_t cols = mode == MODE_LSE ? 1 : n;
    PyObject *result = NULL;
    if (xv.len != nrows * n * xv.itemsize || ov.len != nrows * cols * ov.itemsize ||
        bv.len != nrows || r0 < 0 || r1 > nrows || r0 > r1) {
        PyErr_Format(PyExc_ValueError,
                     "sizes disagree: x holds %zd bytes (rows of %zd), out %zd bytes, bad %zd,"
                     " rows %zd:%zd", xv.len, n, ov.len, bv.len, r0, r1);
        goto done;
    }
    job.x = xv.buf;
    job.out = ov.buf;
    job.bad = (unsigned char *)bv.buf;
    job.in_double = xv.itemsize == 8;
    job.out_double = ov.itemsize == 8;
    /* The NumPy fast path's rule (fast.py, _Job.unshifted_ok): exp of the unshifted input is
     * exact enough at T = 1 and for lower-precision input at any T, but not for a float64
     * logsumexp, where a common error of exp(max) shows when the result cancels. */
    job.unshifted_ok = (!job.has_t || !job.in_double) && !(job.in_double && mode == MODE_LSE);
    job.high = 690.0 - log((double)n);
    Py_ssize_t bad = 0;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    Scratch w;
    if (r1 > r0) {
        if (scratch_alloc(&w, &job) != 0) {
            failed = 1;
        } else {
            bad = run_rows(&job, &w, r0, r1);
            free(w.mem);
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyLong_FromSsize_t(bad);
done:
    PyBuffer_Release(&xv);
    PyBuffer_Release(&ov);
    PyBuffer_Release(&bv);
    return result;
}

PyDoc_STRVAR(exp_doc,
"exp(a, e, portable=False) -> None\n\n"
"e = exp(a) elementwise with the kernel's own exp, for float64 buffers of equal length\n"
"(exposed to test it against an exact oracle). portable=True runs the plain C loop instead\n"
"of the AVX-512 one, which must give the same bits.");

static PyObject *py_exp(PyObject *self, PyObject *args) {
    PyObject *ao, *eo;
    int portable = 0;
    (void)self;
    if (!PyArg_ParseTuple(args, "OO|p", &ao, &eo, &portable)) return NULL;
    Py_buffer av, ev;
    if (get_buffer(ao, &av, 0, "a") != 0) return NULL;
    if (get_buffer(eo, &ev, 1, "e") != 0) {
        PyBuffer_Release(&av);
        return NULL;
    }
    PyObject *result = NULL;
    if (av.itemsize != 8 || ev.itemsize != 8 || av.len != ev.len) {
        PyErr_SetString(PyExc_ValueError, "a and e must be float64 buffers of equal length");
    } else {
        Py_BEGIN_ALLOW_THREADS
        const double *a = (const double *)av.buf;
        double *e = (double *)ev.buf;
        size_t len = (size_t)(av.len / 8);
        if (portable) {
            for (size_t i = 0; i < len; i++) e[i] = exp1(a[i]);
        } else {
            run_exp(a, e, len);
        }
        Py_END_ALLOW_THREADS
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&av);
    PyBuffer_Release(&ev);
    return result;
}

PyDoc_STRVAR(isa_doc,
"isa() -> str\n\n"
"The instruction set the kernel runs with: 'avx512f', 'avx2' or 'baseline' (the build's\n"
"default target, e.g. SSE2 or NEON, where there is no run-time dispatch).");

static PyObject *py_isa(PyObject *self, PyObject *noargs) {
    (void)self;
    (void)noargs;
#if SK_HAVE_CLONES
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return PyUnicode_FromString("avx512f");
    if (__builtin_cpu_supports("avx2")) return PyUnicode_FromString("avx2");
#endif
    return PyUnicode_FromString("baseline");
}

static PyMethodDef methods[] = {
    {"rows", py_rows, METH_VARARGS, rows_doc},
    {"exp", py_exp, METH_VARARGS, exp_doc},
    {"isa", py_isa, METH_NOARGS, isa_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "softmaxkit._base._native",
    "Native kernel for softmax, log_softmax and logsumexp (see softmaxkit._base.native).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
#if SK_HAVE_CLONES
    __builtin_cpu_init();
    sk_avx512 = __builtin_cpu_supports("avx512f") ? 1 : 0;
#endif
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "NARROW", NARROW) != 0 ||
        PyModule_AddIntConstant(m, "ABI", 1) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
