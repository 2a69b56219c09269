/*
 * adu_postgres._copydec: decode PostgreSQL binary COPY data into Arrow buffers.
 *
 * A Decoder is fed the bytes of a `COPY ... TO STDOUT (FORMAT binary)` stream in
 * chunks of any size (psycopg2 calls its `write` once per CopyData message) and
 * accumulates one batch of columns in growable C buffers. `take()` hands the batch
 * over as Python bytes objects laid out as Arrow buffers (validity bitmap, offsets,
 * values), which the Python side wraps with pyarrow.Array.from_buffers, zero-copy.
 *
 * No Python object is created per row or per value: this is what makes the read path
 * fast. The column kinds (see KIND_* below) are chosen by the Python side from the
 * PostgreSQL type; everything without a kind here is cast to text in the COPY query.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

enum {
    KIND_BOOL = 0,
    KIND_INT2 = 1,
    KIND_INT4 = 2,   /* also oid (uint32: same bytes) */
    KIND_INT8 = 3,
    KIND_FLOAT4 = 4,
    KIND_FLOAT8 = 5,
    KIND_DATE = 6,
    KIND_TIMESTAMP = 7,
    KIND_TIME = 8,
    KIND_TEXT = 9,   /* text, varchar, bpchar, name, json, xml, enum, bytea, anything ::text */
    KIND_JSONB = 10, /* version byte then text */
    KIND_UUID = 11,
    KIND_NUMERIC = 12, /* numeric(p,s) -> decimal128/256 */
    KIND_MONEY = 13,   /* int64 -> decimal128 */
    KIND_INTERVAL = 14, /* struct<months int32, days int32, microseconds int64> */
    KIND_UUID_TEXT = 15 /* uuid sent as its 16 bytes, stored as PostgreSQL's 36-character text */
};

/* kinds whose Arrow layout is offsets + bytes (a string column) */
#define IS_TEXT_KIND(k) ((k) == KIND_TEXT || (k) == KIND_JSONB || (k) == KIND_UUID_TEXT)

enum { POLICY_ERROR = 0, POLICY_NULL = 1, POLICY_CLAMP = 2, POLICY_EXTREME = 3 };

/* Messages starting (after "column N: ") with this mark ask the source to read the column
 * again as PostgreSQL's exact text: no Parquet type holds the value (adu_postgres.types). */
#define FALLBACK_MARK "[text fallback] "
/* DuckDB's infinities: INT64_MAX / -INT64_MAX microseconds, INT32_MAX / -INT32_MAX days */
#define EXTREME_MICROS INT64_MAX
#define EXTREME_DAYS INT32_MAX

#define PG_EPOCH_DAYS 10957                    /* 2000-01-01 - 1970-01-01 in days */
#define PG_EPOCH_MICROS 946684800000000LL      /* same in microseconds */
#define CLAMP_MAX_MICROS 253402300799999999LL /* 9999-12-31 23:59:59.999999 */
#define CLAMP_MIN_MICROS (-62135596800000000LL) /* 0001-01-01 00:00:00 */
#define CLAMP_MAX_DAYS 2932896                 /* 9999-12-31 */
#define CLAMP_MIN_DAYS (-719162)               /* 0001-01-01 */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    size_t hint; /* capacity of the block last handed over by take(): the next batch's first size */
} Buf;

/*
 * A pool of the blocks take() handed to Arrow, for the next batches' buffers.
 *
 * Arrow releases a batch's blocks together, once its row group is written. Handed back to
 * glibc, that memory went back to the system (a thread arena's heap shrinks with
 * MADV_DONTNEED; big blocks are mmap'd) and the next batches faulted it in again, page by
 * page: most of an export's page faults. The pool keeps the blocks for the next batches
 * instead: take() gives each buffer the smallest pooled block that holds its last batch,
 * and a buffer that grows (a new decoder's first batch) takes a pooled block of the size it
 * grows to. Bounded in blocks and bytes, and emptied when the last decoder goes, so an idle
 * process holds nothing. Used with and without the GIL (the COPY loop releases it), so
 * behind its own mutex, which fork() leaves unlocked in both processes (pool_atfork_*).
 */
#define POOL_SLOTS 256
#define POOL_MAX_BYTES ((size_t)128 << 20)
/* blocks smaller than this are freed, not pooled (take() copies them: HANDOVER_MIN) */
#define POOL_MIN_BLOCK 65536

typedef struct {
    char *data;
    size_t cap;
} PoolBlock;

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static PoolBlock pool[POOL_SLOTS];
static int pool_n;
static size_t pool_bytes;
static int live_decoders; /* Decoders alive: the pool is kept only while there is one */
static long pool_reused; /* blocks handed out again (pool_stats(), for the tests) */

/* Keep a block for a later batch, or free it (small, pool full, no decoder left). */
static void pool_put(char *data, size_t cap) {
    if (!data) return;
    if (cap >= POOL_MIN_BLOCK) {
        pthread_mutex_lock(&pool_mutex);
        int kept = live_decoders > 0 && pool_n < POOL_SLOTS && pool_bytes + cap <= POOL_MAX_BYTES;
        if (kept) {
            pool[pool_n].data = data;
            pool[pool_n].cap = cap;
            pool_n++;
            pool_bytes += cap;
        }
        pthread_mutex_unlock(&pool_mutex);
        if (kept) return;
    }
    free(data);
}

/* The smallest pooled block of at least `lo` and at most `hi` bytes (its size in *cap), or NULL. */
static char *pool_take(size_t lo, size_t hi, size_t *cap) {
    char *data = NULL;
    pthread_mutex_lock(&pool_mutex);
    int best = -1;
    for (int i = 0; i < pool_n; i++)
        if (pool[i].cap >= lo && pool[i].cap <= hi && (best < 0 || pool[i].cap < pool[best].cap)) best = i;
    if (best >= 0) {
        data = pool[best].data;
        *cap = pool[best].cap;
        pool_bytes -= pool[best].cap;
        pool[best] = pool[--pool_n];
        pool_reused++;
    }
    pthread_mutex_unlock(&pool_mutex);
    return data;
}

/* fork() while a reading thread holds the mutex would leave it locked for ever in the child */
static void pool_atfork_prepare(void) { pthread_mutex_lock(&pool_mutex); }
static void pool_atfork_release(void) { pthread_mutex_unlock(&pool_mutex); }

static void pool_drain(void) {
    pthread_mutex_lock(&pool_mutex);
    for (int i = 0; i < pool_n; i++) free(pool[i].data);
    pool_n = 0;
    pool_bytes = 0;
    pthread_mutex_unlock(&pool_mutex);
}

static int buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : (b->hint > 4096 ? b->hint : 4096);
    while (cap < b->len + extra) cap *= 2;
    if (cap >= POOL_MIN_BLOCK) {
        size_t got;
        char *p = pool_take(cap, 2 * cap, &got);
        if (p) {
            if (b->len) memcpy(p, b->data, b->len);
            pool_put(b->data, b->cap);
            b->data = p;
            b->cap = got;
            return 0;
        }
    }
    char *p = realloc(b->data, cap);
    if (!p) return -1; /* the caller reports it (ERR_NOMEM) */
    b->data = p;
    b->cap = cap;
    return 0;
}

/* Give the empty buffer `b`, whose last block went to Arrow, a pooled block of that size. */
static void pool_get(Buf *b) {
    if (b->data || b->hint < POOL_MIN_BLOCK) return;
    size_t got;
    char *p = pool_take(b->hint, 2 * b->hint, &got);
    if (p) {
        b->data = p;
        b->cap = got;
    }
}

typedef struct {
    int kind;
    int width;  /* decimal byte width: 16 or 32 */
    int scale;  /* decimal scale */
    int policy; /* for infinity / out of range */
    Buf valid;  /* validity bitmap */
    Buf values; /* fixed-width values, or text bytes, or interval months */
    Buf offsets; /* int32 offsets (text) or interval days */
    Buf extra;  /* interval microseconds */
    int64_t nulls;
} Column;

typedef struct {
    PyObject_HEAD
    int ncols;
    Column *cols;
    int64_t rows;       /* rows in the current batch */
    int64_t total_rows; /* rows decoded since the start */
    Buf pending;        /* bytes of an incomplete tuple (or header) */
    int header_done;
    int finished;       /* trailer seen */
    size_t batch_bytes; /* bytes held by the current batch */
    int counted;        /* counted in live_decoders (the block pool's users) */
    int err_kind;       /* 0: out of memory, 2: ValueError, 3: OverflowError (see raise_error) */
    char err[512];      /* message of the last error, set without holding the GIL */
} Decoder;

enum { ERR_NOMEM = 0, ERR_VALUE = 2, ERR_OVERFLOW = 3 };

/* Turn the error recorded by the GIL-free code into a Python exception. */
static void raise_error(Decoder *self) {
    if (self->err_kind == ERR_VALUE) PyErr_SetString(PyExc_ValueError, self->err);
    else if (self->err_kind == ERR_OVERFLOW) PyErr_SetString(PyExc_OverflowError, self->err);
    else PyErr_NoMemory();
}

static inline uint16_t rd16(const unsigned char *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t rd32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline uint64_t rd64(const unsigned char *p) { return ((uint64_t)rd32(p) << 32) | rd32(p + 4); }

static void Decoder_dealloc(Decoder *self) {
    if (self->cols) {
        for (int i = 0; i < self->ncols; i++) {
            Column *c = &self->cols[i];
            pool_put(c->valid.data, c->valid.cap);
            pool_put(c->values.data, c->values.cap);
            pool_put(c->offsets.data, c->offsets.cap);
            pool_put(c->extra.data, c->extra.cap);
        }
        PyMem_Free(self->cols);
    }
    free(self->pending.data);
    int last = 0;
    if (self->counted) {
        pthread_mutex_lock(&pool_mutex);
        last = --live_decoders == 0;
        pthread_mutex_unlock(&pool_mutex);
    }
    if (last) pool_drain();
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int column_start(Column *c) {
    /* text columns start with offset 0 */
    c->valid.len = c->values.len = c->offsets.len = c->extra.len = 0;
    c->nulls = 0;
    if (IS_TEXT_KIND(c->kind)) {
        if (buf_reserve(&c->offsets, 4) < 0) return -1;
        int32_t z = 0;
        memcpy(c->offsets.data, &z, 4);
        c->offsets.len = 4;
    }
    return 0;
}

static int Decoder_init(Decoder *self, PyObject *args, PyObject *kwds) {
    PyObject *specs;
    if (!PyArg_ParseTuple(args, "O", &specs)) return -1;
    if (!self->counted) {
        self->counted = 1;
        pthread_mutex_lock(&pool_mutex);
        live_decoders++;
        pthread_mutex_unlock(&pool_mutex);
    }
    PyObject *seq = PySequence_Fast(specs, "specs must be a sequence of (kind, width, scale, policy)");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    self->ncols = (int)n;
    self->cols = PyMem_Calloc(n ? n : 1, sizeof(Column));
    if (!self->cols) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        Column *c = &self->cols[i];
        if (!PyArg_ParseTuple(item, "iiii", &c->kind, &c->width, &c->scale, &c->policy)) {
            Py_DECREF(seq);
            return -1;
        }
        if (c->kind < 0 || c->kind > KIND_UUID_TEXT) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_ValueError, "unknown column kind %d", c->kind);
            return -1;
        }
        if (column_start(c) < 0) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
    }
    Py_DECREF(seq);
    return 0;
}

/* Set bit `row` of the validity bitmap (1 = valid). The bitmap is only built from the
 * batch's first NULL on (every row before it valid): a column without NULLs costs nothing
 * here, and take() hands Arrow no bitmap for it. */
static inline int set_valid(Column *c, int64_t row, int valid) {
    if (valid && !c->nulls) return 0;
    size_t need = (size_t)(row / 8) + 1;
    if (!c->nulls) { /* the batch's first NULL: rows 0 .. row-1 were valid */
        if (buf_reserve(&c->valid, need) < 0) return -1;
        memset(c->valid.data, 0xFF, need);
        c->valid.data[row / 8] = (char)((1u << (row % 8)) - 1u);
        c->valid.len = need;
    }
    if (c->valid.len < need) {
        if (buf_reserve(&c->valid, need - c->valid.len) < 0) return -1;
        memset(c->valid.data + c->valid.len, 0, need - c->valid.len);
        c->valid.len = need;
    }
    if (valid) c->valid.data[row / 8] |= (char)(1u << (row % 8));
    else c->nulls++;
    return 0;
}

static int value_error(Decoder *self, int col, const char *what) {
    snprintf(self->err, sizeof self->err, "column %d: %s (row %lld of the partition)", col, what,
             (long long)(self->total_rows + self->rows + 1));
    self->err_kind = ERR_OVERFLOW;
    return -1;
}

/* Append `width` zero bytes (placeholder for a NULL fixed-width value). */
static inline int put_zero(Buf *b, size_t width) {
    if (buf_reserve(b, width) < 0) return -1;
    memset(b->data + b->len, 0, width);
    b->len += width;
    return 0;
}

static size_t fixed_width(const Column *c) {
    switch (c->kind) {
    case KIND_INT2: return 2;
    case KIND_INT4: case KIND_FLOAT4: case KIND_DATE: return 4;
    case KIND_INT8: case KIND_FLOAT8: case KIND_TIMESTAMP: case KIND_TIME: return 8;
    case KIND_UUID: return 16;
    case KIND_NUMERIC: return (size_t)c->width;
    case KIND_MONEY: return 16;
    default: return 0;
    }
}

/* 256-bit little-endian unsigned integer as 4 limbs. */
typedef struct { uint64_t w[4]; } U256;

static inline int u256_muladd(U256 *x, uint64_t mul, uint64_t add) {
    unsigned __int128 carry = add;
    for (int i = 0; i < 4; i++) {
        unsigned __int128 t = (unsigned __int128)x->w[i] * mul + carry;
        x->w[i] = (uint64_t)t;
        carry = t >> 64;
    }
    return carry != 0; /* overflow */
}

static const uint64_t POW10[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL};

/* 10^excess for excess 1..3 as literals, so the divisions become multiplications */
static inline uint64_t div_excess(uint64_t v, int excess, uint64_t *rem) {
    switch (excess) {
    case 1: *rem = v % 10; return v / 10;
    case 2: *rem = v % 100; return v / 100;
    default: *rem = v % 1000; return v / 1000;
    }
}

/*
 * The common case of put_numeric without 256-bit arithmetic: the scaled value (before the
 * excess digits are divided out) fits in 64 bits. Returns 0 when stored, -1 on an error
 * (the value has more fractional digits than the scale), 1 when the value is too wide
 * for this path (the caller decodes it in 256 bits; same result, just slower).
 */
static int put_numeric_fast(Decoder *self, int col, Column *c, const unsigned char *p, int ndigits, int weight,
                            uint16_t sign) {
    int scale = c->scale;
    int last_pos = -((scale + 3) / 4);
    int top = ndigits == 0 ? last_pos : weight;
    if (top - last_pos >= 4) return 1; /* 5 base-10000 digits or more may pass 2^63 */
    uint64_t x = 0;
    for (int pos = top; pos >= last_pos; pos--) {
        int idx = weight - pos;
        uint64_t d = (idx >= 0 && idx < ndigits) ? rd16(p + 8 + 2 * idx) : 0;
        x = x * 10000 + d; /* four digits at most: x < 10^16 */
    }
    for (int idx = weight - last_pos + 1; idx < ndigits; idx++) {
        if (rd16(p + 8 + 2 * idx) != 0) return value_error(self, col, "numeric has more fractional digits than its scale");
    }
    int excess = 4 * ((scale + 3) / 4) - scale;
    if (excess) {
        uint64_t rem;
        x = div_excess(x, excess, &rem);
        if (rem) return value_error(self, col, "numeric has more fractional digits than its scale");
    }
    /* x < 10^16 < 2^63: fits any decimal width; negate as a signed 64-bit value */
    int64_t v = sign == 0x4000 ? -(int64_t)x : (int64_t)x;
    uint64_t w[4];
    w[0] = (uint64_t)v;
    w[1] = w[2] = w[3] = v < 0 ? UINT64_MAX : 0;
    int width = c->width;
    if (buf_reserve(&c->values, (size_t)width) < 0) return -1;
    memcpy(c->values.data + c->values.len, w, (size_t)width); /* little endian host */
    c->values.len += (size_t)width;
    return 0;
}

/* Decode a numeric in PostgreSQL's binary form into a scaled two's complement integer. */
static int put_numeric(Decoder *self, int col, Column *c, const unsigned char *p, int32_t len) {
    if (len < 8) return value_error(self, col, "malformed numeric");
    int ndigits = (int16_t)rd16(p);
    int weight = (int16_t)rd16(p + 2);
    uint16_t sign = rd16(p + 4);
    if (len < 8 + 2 * ndigits) return value_error(self, col, "malformed numeric");
    if (sign == 0xC000) return value_error(self, col, FALLBACK_MARK "NaN has no decimal value");
    if (sign == 0xD000 || sign == 0xF000) return value_error(self, col, FALLBACK_MARK "Infinity has no decimal value");
    int fast = put_numeric_fast(self, col, c, p, ndigits, weight, sign);
    if (fast <= 0) return fast; /* stored (0) or failed (-1); 1: too wide, the general path */
    U256 x = {{0, 0, 0, 0}};
    int overflow = 0;
    /* value = sum digit[i] * 10000^(weight - i); we want value * 10^scale as an integer.
     * Digits cover base-10000 positions weight .. weight-ndigits+1. Positions below
     * -ceil(scale/4) are beyond the scale: they must be zero (they are, for a
     * numeric(p,s) column, whose dscale <= s). */
    int scale = c->scale;
    /* walk the base-10000 positions from `weight` down to the last fractional position */
    int last_pos = -((scale + 3) / 4);
    int top = weight;
    if (ndigits == 0) top = last_pos; /* zero */
    for (int pos = top; pos >= last_pos; pos--) {
        int idx = weight - pos;
        uint64_t d = (idx >= 0 && idx < ndigits) ? rd16(p + 8 + 2 * idx) : 0;
        overflow |= u256_muladd(&x, 10000, d);
    }
    for (int idx = weight - last_pos + 1; idx < ndigits; idx++) {
        if (rd16(p + 8 + 2 * idx) != 0) return value_error(self, col, "numeric has more fractional digits than its scale");
    }
    /* now x = value * 10000^(-last_pos) = value * 10^(4*ceil(scale/4)); divide the excess */
    int excess = 4 * ((scale + 3) / 4) - scale;
    if (excess) {
        uint64_t div = POW10[excess];
        unsigned __int128 rem = 0;
        for (int i = 3; i >= 0; i--) {
            unsigned __int128 cur = (rem << 64) | x.w[i];
            x.w[i] = (uint64_t)(cur / div);
            rem = cur % div;
        }
        if (rem) return value_error(self, col, "numeric has more fractional digits than its scale");
    }
    int width = c->width;
    if (overflow || (width == 16 && (x.w[2] || x.w[3] || (x.w[1] >> 63))) || (width == 32 && (x.w[3] >> 63)))
        return value_error(self, col, "numeric value does not fit the decimal type");
    if (sign == 0x4000) { /* negate: two's complement */
        uint64_t carry = 1;
        for (int i = 0; i < 4; i++) {
            uint64_t v = ~x.w[i] + carry;
            carry = (carry && v == 0) ? 1 : 0;
            x.w[i] = v;
        }
    }
    if (buf_reserve(&c->values, (size_t)width) < 0) return -1;
    memcpy(c->values.data + c->values.len, x.w, (size_t)width); /* little endian host */
    c->values.len += (size_t)width;
    return 0;
}

/* "000102...ff": the two lowercase hex digits of every byte value */
static char HEX_PAIRS[513];

static void init_hex_pairs(void) {
    static const char HEX[] = "0123456789abcdef";
    for (int b = 0; b < 256; b++) {
        HEX_PAIRS[2 * b] = HEX[b >> 4];
        HEX_PAIRS[2 * b + 1] = HEX[b & 15];
    }
}

/* One value (len >= 0) or NULL (len == -1) of column `col`. */
static int put_value(Decoder *self, int col, const unsigned char *p, int32_t len) {
    Column *c = &self->cols[col];
    int64_t row = self->rows;
    if (len < 0) {
        if (set_valid(c, row, 0) < 0) return -1;
        switch (c->kind) {
        case KIND_BOOL: return 0; /* bit already zero (values bitmap grows with validity) */
        case KIND_TEXT: case KIND_JSONB: case KIND_UUID_TEXT: {
            if (buf_reserve(&c->offsets, 4) < 0) return -1;
            int32_t off = (int32_t)c->values.len;
            memcpy(c->offsets.data + c->offsets.len, &off, 4);
            c->offsets.len += 4;
            return 0;
        }
        case KIND_INTERVAL:
            if (put_zero(&c->values, 4) < 0 || put_zero(&c->offsets, 4) < 0) return -1;
            return put_zero(&c->extra, 8);
        default:
            return put_zero(&c->values, fixed_width(c));
        }
    }
    int valid = 1;
    switch (c->kind) {
    case KIND_BOOL: {
        if (len != 1) return value_error(self, col, "malformed bool");
        size_t need = (size_t)(row / 8) + 1;
        if (c->values.len < need) {
            if (buf_reserve(&c->values, need - c->values.len) < 0) return -1;
            memset(c->values.data + c->values.len, 0, need - c->values.len);
            c->values.len = need;
        }
        if (p[0]) c->values.data[row / 8] |= (char)(1u << (row % 8));
        break;
    }
    case KIND_INT2: {
        if (len != 2) return value_error(self, col, "malformed int2");
        uint16_t v = rd16(p);
        if (buf_reserve(&c->values, 2) < 0) return -1;
        memcpy(c->values.data + c->values.len, &v, 2);
        c->values.len += 2;
        break;
    }
    case KIND_INT4: case KIND_FLOAT4: {
        if (len != 4) return value_error(self, col, "malformed 4-byte value");
        uint32_t v = rd32(p);
        if (buf_reserve(&c->values, 4) < 0) return -1;
        memcpy(c->values.data + c->values.len, &v, 4);
        c->values.len += 4;
        break;
    }
    case KIND_INT8: case KIND_FLOAT8: case KIND_TIME: {
        if (len != 8) return value_error(self, col, "malformed 8-byte value");
        uint64_t v = rd64(p);
        if (buf_reserve(&c->values, 8) < 0) return -1;
        memcpy(c->values.data + c->values.len, &v, 8);
        c->values.len += 8;
        break;
    }
    case KIND_DATE: {
        if (len != 4) return value_error(self, col, "malformed date");
        int32_t v = (int32_t)rd32(p);
        int32_t out;
        int inf = (v == INT32_MAX || v == INT32_MIN);
        int bad = inf || __builtin_add_overflow(v, PG_EPOCH_DAYS, &out) || out == EXTREME_DAYS || out == -EXTREME_DAYS;
        if (bad) {
            int positive = v > 0;
            if (c->policy == POLICY_EXTREME) {
                if (!inf) return value_error(self, col, FALLBACK_MARK "date out of the range Parquet holds");
                out = positive ? EXTREME_DAYS : -EXTREME_DAYS;
            } else if (c->policy == POLICY_ERROR)
                return value_error(self, col, positive ? "date 'infinity' (or out of range) cannot be stored; source option infinity=extreme|null|clamp decides"
                                                       : "date '-infinity' (or out of range) cannot be stored; source option infinity=extreme|null|clamp decides");
            else if (c->policy == POLICY_NULL) { valid = 0; out = 0; }
            else out = positive ? CLAMP_MAX_DAYS : CLAMP_MIN_DAYS;
        }
        if (buf_reserve(&c->values, 4) < 0) return -1;
        memcpy(c->values.data + c->values.len, &out, 4);
        c->values.len += 4;
        break;
    }
    case KIND_TIMESTAMP: {
        if (len != 8) return value_error(self, col, "malformed timestamp");
        int64_t v = (int64_t)rd64(p);
        int64_t out;
        int inf = (v == INT64_MAX || v == INT64_MIN);
        int bad = inf || __builtin_add_overflow(v, PG_EPOCH_MICROS, &out) || out == EXTREME_MICROS || out == -EXTREME_MICROS;
        if (bad) {
            int positive = v > 0;
            if (c->policy == POLICY_EXTREME) {
                if (!inf) return value_error(self, col, FALLBACK_MARK "timestamp beyond year 294246");
                out = positive ? EXTREME_MICROS : -EXTREME_MICROS;
            } else if (c->policy == POLICY_ERROR)
                return value_error(self, col, positive ? "timestamp 'infinity' (or beyond year 294246) cannot be stored; source option infinity=extreme|null|clamp decides"
                                                       : "timestamp '-infinity' cannot be stored; source option infinity=extreme|null|clamp decides");
            else if (c->policy == POLICY_NULL) { valid = 0; out = 0; }
            else out = positive ? CLAMP_MAX_MICROS : CLAMP_MIN_MICROS;
        }
        if (buf_reserve(&c->values, 8) < 0) return -1;
        memcpy(c->values.data + c->values.len, &out, 8);
        c->values.len += 8;
        break;
    }
    case KIND_TEXT: case KIND_JSONB: {
        const unsigned char *s = p;
        int32_t n = len;
        if (c->kind == KIND_JSONB) {
            if (n < 1 || s[0] != 1) return value_error(self, col, "unknown jsonb binary version");
            s++; n--;
        }
        if (c->values.len + (size_t)n > (size_t)INT32_MAX)
            return value_error(self, col, "more than 2 GiB of text in one batch");
        if (buf_reserve(&c->values, (size_t)n) < 0 || buf_reserve(&c->offsets, 4) < 0) return -1;
        memcpy(c->values.data + c->values.len, s, (size_t)n);
        c->values.len += (size_t)n;
        int32_t off = (int32_t)c->values.len;
        memcpy(c->offsets.data + c->offsets.len, &off, 4);
        c->offsets.len += 4;
        break;
    }
    case KIND_UUID: {
        if (len != 16) return value_error(self, col, "malformed uuid");
        if (buf_reserve(&c->values, 16) < 0) return -1;
        memcpy(c->values.data + c->values.len, p, 16);
        c->values.len += 16;
        break;
    }
    case KIND_UUID_TEXT: { /* uuid_out's form: 8-4-4-4-12 lowercase hex digits */
        if (len != 16) return value_error(self, col, "malformed uuid");
        if (c->values.len + 36 > (size_t)INT32_MAX)
            return value_error(self, col, "more than 2 GiB of text in one batch");
        if (buf_reserve(&c->values, 36) < 0 || buf_reserve(&c->offsets, 4) < 0) return -1;
        /* where the two hex digits of byte i go: the dashes sit at 8, 13, 18 and 23 */
        static const unsigned char AT[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
        char *o = c->values.data + c->values.len;
        for (int i = 0; i < 16; i++) memcpy(o + AT[i], HEX_PAIRS + 2 * p[i], 2);
        o[8] = o[13] = o[18] = o[23] = '-';
        c->values.len += 36;
        int32_t off = (int32_t)c->values.len;
        memcpy(c->offsets.data + c->offsets.len, &off, 4);
        c->offsets.len += 4;
        break;
    }
    case KIND_NUMERIC:
        if (put_numeric(self, col, c, p, len) < 0) return -1;
        break;
    case KIND_MONEY: {
        if (len != 8) return value_error(self, col, "malformed money");
        int64_t v = (int64_t)rd64(p);
        int64_t w[2] = {v, v < 0 ? -1 : 0};
        if (buf_reserve(&c->values, 16) < 0) return -1;
        memcpy(c->values.data + c->values.len, w, 16);
        c->values.len += 16;
        break;
    }
    case KIND_INTERVAL: {
        if (len != 16) return value_error(self, col, "malformed interval");
        uint64_t micros = rd64(p);
        uint32_t days = rd32(p + 8), months = rd32(p + 12);
        if (buf_reserve(&c->values, 4) < 0 || buf_reserve(&c->offsets, 4) < 0 || buf_reserve(&c->extra, 8) < 0)
            return -1;
        memcpy(c->values.data + c->values.len, &months, 4);
        c->values.len += 4;
        memcpy(c->offsets.data + c->offsets.len, &days, 4);
        c->offsets.len += 4;
        memcpy(c->extra.data + c->extra.len, &micros, 8);
        c->extra.len += 8;
        break;
    }
    }
    return set_valid(c, row, valid);
}

static const unsigned char SIGNATURE[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0};

/*
 * Parse as many complete items (header, tuples, trailer) as `p[0:n]` holds.
 * Returns the number of bytes consumed, or -1 with an exception set.
 */
static Py_ssize_t parse(Decoder *self, const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t pos = 0;
    if (!self->header_done) {
        if (n < 19) return 0;
        if (memcmp(p, SIGNATURE, 11) != 0) {
            snprintf(self->err, sizeof self->err, "not a PostgreSQL binary COPY stream");
            self->err_kind = ERR_VALUE;
            return -1;
        }
        uint32_t ext = rd32(p + 15);
        if ((Py_ssize_t)(19 + ext) > n) return 0;
        pos = 19 + (Py_ssize_t)ext;
        self->header_done = 1;
    }
    while (pos + 2 <= n && !self->finished) {
        int16_t nf = (int16_t)rd16(p + pos);
        if (nf == -1) { self->finished = 1; pos += 2; break; }
        if (nf != self->ncols) {
            snprintf(self->err, sizeof self->err, "COPY row has %d fields, expected %d", (int)nf, self->ncols);
            self->err_kind = ERR_VALUE;
            return -1;
        }
        /* check the whole tuple is here before decoding any of it */
        Py_ssize_t q = pos + 2;
        for (int i = 0; i < nf; i++) {
            if (q + 4 > n) return pos;
            int32_t len = (int32_t)rd32(p + q);
            q += 4;
            if (len > 0) q += len;
            if (q > n) return pos;
        }
        q = pos + 2;
        for (int i = 0; i < nf; i++) {
            int32_t len = (int32_t)rd32(p + q);
            q += 4;
            if (put_value(self, i, p + q, len) < 0) return -1;
            if (len > 0) { q += len; self->batch_bytes += (size_t)len; }
        }
        self->rows++;
        pos = q;
    }
    return pos;
}

/*
 * Feed `n` bytes of the stream: parse what is complete, keep the rest for the next call.
 * No Python API: runs without the GIL. Returns 0, or -1 with self->err set.
 */
static int feed(Decoder *self, const unsigned char *p, Py_ssize_t n) {
    self->err_kind = ERR_NOMEM;
    self->err[0] = 0;
    if (self->finished) {
        if (n) {
            snprintf(self->err, sizeof self->err, "data after the end of the COPY stream");
            self->err_kind = ERR_VALUE;
            return -1;
        }
        return 0;
    }
    if (self->pending.len) {
        if (buf_reserve(&self->pending, (size_t)n) < 0) return -1;
        memcpy(self->pending.data + self->pending.len, p, (size_t)n);
        self->pending.len += (size_t)n;
        Py_ssize_t used = parse(self, (unsigned char *)self->pending.data, (Py_ssize_t)self->pending.len);
        if (used < 0) return -1;
        memmove(self->pending.data, self->pending.data + used, self->pending.len - (size_t)used);
        self->pending.len -= (size_t)used;
    } else {
        Py_ssize_t used = parse(self, p, n);
        if (used < 0) return -1;
        if (used < n) {
            if (buf_reserve(&self->pending, (size_t)(n - used)) < 0) return -1;
            memcpy(self->pending.data, p + used, (size_t)(n - used));
            self->pending.len = (size_t)(n - used);
        }
    }
    return 0;
}

static PyObject *Decoder_write(Decoder *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    int rc = feed(self, view.buf, view.len);
    Py_ssize_t n = view.len;
    PyBuffer_Release(&view);
    if (rc < 0) { raise_error(self); return NULL; }
    return PyLong_FromSsize_t(n);
}

/* ------------------------------------------------------------------ direct libpq path
 * psycopg2 calls a Python-level write() per row. Here the decoder reads the COPY itself
 * from the PGconn psycopg2 opened (connection.pgconn_ptr), through function pointers of
 * the very libpq psycopg2 loaded (found by the Python side), without the GIL.
 */
typedef void PGconn;
typedef void PGresult;
typedef PGresult *(*fn_exec)(PGconn *, const char *);
typedef int (*fn_status)(const PGresult *);
typedef int (*fn_getcopy)(PGconn *, char **, int);
typedef PGresult *(*fn_getresult)(PGconn *);
typedef char *(*fn_errfield)(const PGresult *, int);
typedef void (*fn_clear)(PGresult *);
typedef void (*fn_freemem)(void *);
typedef char *(*fn_connerr)(const PGconn *);

enum { PGRES_COMMAND_OK = 1, PGRES_COPY_OUT = 3 };
enum { COPY_MORE = 0, COPY_DONE = 1, COPY_PG_ERROR = 2, COPY_DECODE_ERROR = 3 };

typedef struct {
    fn_exec exec;
    fn_status status;
    fn_getcopy getcopy;
    fn_getresult getresult;
    fn_errfield errfield;
    fn_clear clear;
    fn_freemem freemem;
    fn_connerr connerr;
} LibPQ;

static void copy_text(char *dst, size_t cap, const char *src) {
    if (!src) { dst[0] = 0; return; }
    snprintf(dst, cap, "%s", src);
}

static void result_error(const LibPQ *pq, PGconn *conn, PGresult *res, char *state, char *msg) {
    const char *st = res ? pq->errfield(res, 'C') : NULL;
    const char *m = res ? pq->errfield(res, 'M') : NULL;
    copy_text(state, 6, st);
    if (m && *m) copy_text(msg, 512, m);
    else copy_text(msg, 512, pq->connerr(conn));
}

/*
 * copy(pgconn_ptr, functions, sql or None, max_rows, max_bytes) -> (status, sqlstate, message)
 *
 * With `sql`, starts `COPY ... TO STDOUT (FORMAT binary)`; then reads rows until the batch
 * holds max_rows rows or max_bytes value bytes (status 0: call again after take()), or the
 * COPY ends (1), or the server or connection fails (2, with SQL state and message), or a
 * value cannot be decoded (the decoder's exception is raised).
 */
static PyObject *Decoder_copy(Decoder *self, PyObject *args) {
    unsigned long long conn_addr;
    PyObject *fns;
    const char *sql;
    long long max_rows, max_bytes;
    if (!PyArg_ParseTuple(args, "KO!zLL", &conn_addr, &PyTuple_Type, &fns, &sql, &max_rows, &max_bytes)) return NULL;
    if (PyTuple_GET_SIZE(fns) != 8) {
        PyErr_SetString(PyExc_ValueError, "expected 8 libpq function addresses");
        return NULL;
    }
    void *ptrs[8];
    for (int i = 0; i < 8; i++) {
        ptrs[i] = PyLong_AsVoidPtr(PyTuple_GET_ITEM(fns, i));
        if (!ptrs[i]) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "null libpq function address");
            return NULL;
        }
    }
    LibPQ pq;
    pq.exec = (fn_exec)ptrs[0];
    pq.status = (fn_status)ptrs[1];
    pq.getcopy = (fn_getcopy)ptrs[2];
    pq.getresult = (fn_getresult)ptrs[3];
    pq.errfield = (fn_errfield)ptrs[4];
    pq.clear = (fn_clear)ptrs[5];
    pq.freemem = (fn_freemem)ptrs[6];
    pq.connerr = (fn_connerr)ptrs[7];
    PGconn *conn = (PGconn *)(uintptr_t)conn_addr;
    if (!conn) { PyErr_SetString(PyExc_ValueError, "no connection"); return NULL; }
    int status = COPY_MORE;
    char state[6] = {0};
    char msg[512] = {0};

    Py_BEGIN_ALLOW_THREADS
    if (sql) {
        PGresult *res = pq.exec(conn, sql);
        if (!res || pq.status(res) != PGRES_COPY_OUT) {
            result_error(&pq, conn, res, state, msg);
            status = COPY_PG_ERROR;
        }
        if (res) pq.clear(res);
    }
    while (status == COPY_MORE && self->rows < max_rows && (long long)self->batch_bytes < max_bytes) {
        char *buf = NULL;
        int n = pq.getcopy(conn, &buf, 0);
        if (n > 0) {
            int rc = feed(self, (const unsigned char *)buf, n);
            pq.freemem(buf);
            if (rc < 0) status = COPY_DECODE_ERROR;
        } else if (n == -1) { /* end of COPY: the command's result says how it ended */
            status = COPY_DONE;
            PGresult *res;
            while ((res = pq.getresult(conn)) != NULL) {
                if (pq.status(res) != PGRES_COMMAND_OK && status == COPY_DONE) {
                    result_error(&pq, conn, res, state, msg);
                    status = COPY_PG_ERROR;
                }
                pq.clear(res);
            }
        } else { /* -2: the connection failed */
            if (buf) pq.freemem(buf);
            copy_text(msg, sizeof msg, pq.connerr(conn));
            status = COPY_PG_ERROR;
        }
    }
    Py_END_ALLOW_THREADS

    if (status == COPY_DECODE_ERROR) { raise_error(self); return NULL; }
    if (status == COPY_DONE && !self->finished) {
        PyErr_SetString(PyExc_ValueError, "the COPY ended without its end-of-data marker");
        return NULL;
    }
    return Py_BuildValue("(iss)", status, state, msg);
}

/*
 * Owned: a read-only Python buffer over a malloc'd block it frees when released. take()
 * hands a batch's big buffers over this way instead of copying them into bytes objects;
 * pyarrow.py_buffer() wraps it without a copy and keeps it alive as long as Arrow does.
 */
typedef struct {
    PyObject_HEAD
    char *data;
    Py_ssize_t len;
    size_t cap;
} Owned;

static void Owned_dealloc(Owned *self) {
    pool_put(self->data, self->cap);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Owned_getbuffer(Owned *self, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)self, self->data, self->len, 1, flags);
}

static PyBufferProcs Owned_as_buffer = {.bf_getbuffer = (getbufferproc)Owned_getbuffer};

static PyTypeObject OwnedType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "adu_postgres._copydec.Owned",
    .tp_basicsize = sizeof(Owned),
    .tp_dealloc = (destructor)Owned_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A decoded buffer handed over without a copy (read-only buffer protocol)",
    .tp_as_buffer = &Owned_as_buffer,
};

/* below this size a copy is cheaper than a new block for the next batch */
#define HANDOVER_MIN 65536

/* The contents of `b` as a Python buffer object; big blocks change owner (no copy). */
static PyObject *bytes_of(Buf *b) {
    if (b->len < HANDOVER_MIN || !b->data)
        return PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->len);
    Owned *o = PyObject_New(Owned, &OwnedType);
    if (!o) return NULL;
    o->data = b->data;
    o->len = (Py_ssize_t)b->len;
    o->cap = b->cap;
    b->hint = b->cap;
    b->data = NULL;
    b->len = b->cap = 0;
    return (PyObject *)o;
}

/* Pad the validity bitmap (and bool values) to cover `rows` rows. */
static int pad_bitmap(Buf *b, int64_t rows) {
    size_t need = (size_t)((rows + 7) / 8);
    if (b->len < need) {
        if (buf_reserve(b, need - b->len) < 0) return -1;
        memset(b->data + b->len, 0, need - b->len);
        b->len = need;
    }
    return 0;
}

/*
 * take() -> (rows, [(null_count, validity, buf1, buf2, buf3), ...]) and start a new batch.
 * Buffers a column does not use are None.
 */
static PyObject *Decoder_take(Decoder *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *cols = PyList_New(self->ncols);
    if (!cols) return NULL;
    for (int i = 0; i < self->ncols; i++) {
        Column *c = &self->cols[i];
        if ((c->nulls && pad_bitmap(&c->valid, self->rows) < 0) || (c->kind == KIND_BOOL && pad_bitmap(&c->values, self->rows) < 0)) {
            Py_DECREF(cols);
            return PyErr_NoMemory();
        }
        PyObject *validity = c->nulls ? bytes_of(&c->valid) : (Py_INCREF(Py_None), Py_None);
        PyObject *b1 = bytes_of(&c->values);
        PyObject *b2, *b3;
        if (IS_TEXT_KIND(c->kind) || c->kind == KIND_INTERVAL) b2 = bytes_of(&c->offsets);
        else { Py_INCREF(Py_None); b2 = Py_None; }
        if (c->kind == KIND_INTERVAL) b3 = bytes_of(&c->extra);
        else { Py_INCREF(Py_None); b3 = Py_None; }
        if (!validity || !b1 || !b2 || !b3) {
            Py_XDECREF(validity); Py_XDECREF(b1); Py_XDECREF(b2); Py_XDECREF(b3); Py_DECREF(cols);
            return NULL;
        }
        PyObject *t = Py_BuildValue("(LNNNN)", (long long)c->nulls, validity, b1, b2, b3);
        if (!t) { Py_DECREF(cols); return NULL; }
        PyList_SET_ITEM(cols, i, t);
        pool_get(&c->valid);
        pool_get(&c->values);
        pool_get(&c->offsets);
        pool_get(&c->extra);
        if (column_start(c) < 0) { Py_DECREF(cols); return PyErr_NoMemory(); }
    }
    PyObject *res = Py_BuildValue("(LN)", (long long)self->rows, cols);
    self->total_rows += self->rows;
    self->rows = 0;
    self->batch_bytes = 0;
    return res;
}

static PyObject *Decoder_get_rows(Decoder *self, void *closure) { return PyLong_FromLongLong(self->rows); }
static PyObject *Decoder_get_total(Decoder *self, void *closure) { return PyLong_FromLongLong(self->total_rows + self->rows); }
static PyObject *Decoder_get_bytes(Decoder *self, void *closure) { return PyLong_FromSize_t(self->batch_bytes); }
static PyObject *Decoder_get_finished(Decoder *self, void *closure) { return PyBool_FromLong(self->finished); }
static PyObject *Decoder_get_pending(Decoder *self, void *closure) { return PyLong_FromSize_t(self->pending.len); }

static PyMethodDef Decoder_methods[] = {
    {"write", (PyCFunction)Decoder_write, METH_O, "Feed bytes of the COPY stream."},
    {"copy", (PyCFunction)Decoder_copy, METH_VARARGS, "Read a COPY from a libpq connection (GIL released)."},
    {"take", (PyCFunction)Decoder_take, METH_NOARGS, "Hand over the current batch as Arrow buffers."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Decoder_getset[] = {
    {"rows", (getter)Decoder_get_rows, NULL, "rows in the current batch", NULL},
    {"total_rows", (getter)Decoder_get_total, NULL, "rows decoded so far", NULL},
    {"batch_bytes", (getter)Decoder_get_bytes, NULL, "value bytes in the current batch", NULL},
    {"finished", (getter)Decoder_get_finished, NULL, "the end-of-data marker was seen", NULL},
    {"pending", (getter)Decoder_get_pending, NULL, "bytes of an incomplete row", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject DecoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "adu_postgres._copydec.Decoder",
    .tp_basicsize = sizeof(Decoder),
    .tp_dealloc = (destructor)Decoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Decoder(specs): PostgreSQL binary COPY -> Arrow buffers; specs: [(kind, width, scale, policy)]",
    .tp_methods = Decoder_methods,
    .tp_getset = Decoder_getset,
    .tp_init = (initproc)Decoder_init,
    .tp_new = PyType_GenericNew,
};

/* pool_stats() -> (blocks, bytes, reused): what the block pool holds, and how many blocks it
 * has handed out again since the module was loaded. */
static PyObject *pool_stats(PyObject *mod, PyObject *Py_UNUSED(ignored)) {
    pthread_mutex_lock(&pool_mutex);
    int n = pool_n;
    size_t bytes = pool_bytes;
    long reused = pool_reused;
    pthread_mutex_unlock(&pool_mutex);
    return Py_BuildValue("(inl)", n, (Py_ssize_t)bytes, reused);
}

static PyMethodDef module_methods[] = {
    {"pool_stats", pool_stats, METH_NOARGS, "(blocks, bytes, reused) of the pool of batch buffers"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_copydec", "Binary COPY decoder", -1, module_methods};

PyMODINIT_FUNC PyInit__copydec(void) {
    init_hex_pairs();
    static int atfork_done;
    if (!atfork_done) {
        if (pthread_atfork(pool_atfork_prepare, pool_atfork_release, pool_atfork_release) != 0) return PyErr_NoMemory();
        atfork_done = 1;
    }
    if (PyType_Ready(&DecoderType) < 0 || PyType_Ready(&OwnedType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&DecoderType);
    if (PyModule_AddObject(m, "Decoder", (PyObject *)&DecoderType) < 0) {
        Py_DECREF(&DecoderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
