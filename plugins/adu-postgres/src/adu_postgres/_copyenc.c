/*
 * adu_postgres._copyenc: encode Arrow record batches as `COPY ... FROM STDIN` data.
 *
 * The inverse of _copydec.c. An Encoder is built from one spec per column (the kind of
 * conversion, see KIND_* below, and flags) and a format: PostgreSQL's binary COPY format
 * (`FORMAT binary`, every value in its type's send format) or COPY's text format (every
 * value in the text its type's input function reads, with COPY's escaping).
 *
 * Batches arrive through the Arrow C data interface (`batch.__arrow_c_array__()`): no
 * Python object is made per row or value. The data can be returned as bytes (encode())
 * or sent straight over the PGconn psycopg2 opened, through the very libpq psycopg2
 * loaded (copy_start / copy_batch / copy_end), with the GIL released, so several
 * connections load at once from threads of one process.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

#include "copyenc_values.h"
#include "copyenc_net.h"

enum {
    KIND_BOOL = 0,
    KIND_INT2 = 1,
    KIND_INT4 = 2,
    KIND_INT8 = 3,
    KIND_FLOAT4 = 4,
    KIND_FLOAT8 = 5,
    KIND_OID = 6,          /* uint32 */
    KIND_DATE = 7,         /* date32 */
    KIND_TIMESTAMP = 8,    /* timestamp[us] (FLAG_TZ: timestamptz) */
    KIND_TIME = 9,         /* time64[us] */
    KIND_INTERVAL = 10,    /* struct<months int32, days int32, microseconds int64> */
    KIND_UUID = 11,        /* fixed_size_binary(16) */
    KIND_NUMERIC = 12,     /* decimal128/256 -> numeric */
    KIND_MONEY = 13,       /* decimal128 -> money (int64) */
    KIND_TEXT = 14,        /* string -> text, varchar, char(n), name, json, enum, xml... */
    KIND_BYTEA = 15,       /* binary -> bytea */
    KIND_JSONB = 16,       /* string -> jsonb (binary: version byte 1) */
    KIND_NUMERIC_TEXT = 17, /* numeric_out's text -> numeric */
    KIND_TIMETZ_TEXT = 18, /* timetz_out's text -> timetz */
    KIND_PGTEXT = 19,      /* PostgreSQL's text of any type: text format only */
    KIND_LIST = 20,        /* list<bool|int|float|uint32> -> one-dimensional array */
    KIND_UUID_TEXT = 21,   /* uuid_out's text (the portable profile) -> uuid */
    KIND_INET_TEXT = 22,   /* inet_out's text -> inet */
    KIND_CIDR_TEXT = 23,   /* cidr_out's text -> cidr */
    KIND_MACADDR_TEXT = 24, /* macaddr_out's text -> macaddr */
    KIND_MACADDR8_TEXT = 25, /* macaddr8_out's text -> macaddr8 */
    KIND_LAST = 25
};

enum { FLAG_INFINITY = 1, FLAG_TZ = 2 };

/* ------------------------------------------------------------------ Arrow C data interface */

struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

typedef struct {
    int kind, flags, elem_kind, elem_oid; /* the spec */
    /* bound per batch */
    const uint8_t *valid;
    int64_t off;
    const uint8_t *data;
    const int32_t *o32;
    const int64_t *o64;
    int width, scale;
    const int32_t *months, *days;
    const int64_t *micros;
    int64_t moff, doff, uoff;
    const uint8_t *cvalid[3]; /* validity of the interval's fields (a null field is an error) */
    const uint8_t *evalid;
    const uint8_t *edata;
    int64_t eoff;
} Col;

typedef struct {
    PyObject_HEAD
    int ncols;
    int text;
    Col *cols;
    Buf out;
    int64_t rows; /* rows encoded since the start */
    int err_col;
    char err[256];
} Encoder;

static inline int bit(const uint8_t *bits, int64_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }

static inline int is_null(const Col *c, int64_t i) { return c->valid && !bit(c->valid, c->off + i); }

static int check_fmt(Encoder *self, int col, const char *fmt, const char *want, int prefix) {
    if (prefix ? strncmp(fmt, want, strlen(want)) == 0 : strcmp(fmt, want) == 0) return 0;
    PyErr_Format(PyExc_TypeError, "column %d: Arrow format '%s' does not fit its encoder (expected '%s')", col, fmt,
                 want);
    return -1;
}

static int string_fmt(Encoder *self, int col, const char *fmt, Col *c, const struct ArrowArray *a) {
    if (strcmp(fmt, "u") == 0 || strcmp(fmt, "z") == 0) c->o32 = a->buffers[1];
    else if (strcmp(fmt, "U") == 0 || strcmp(fmt, "Z") == 0) c->o64 = a->buffers[1];
    else return check_fmt(self, col, fmt, "u", 0);
    c->data = a->buffers[2];
    return 0;
}

static int elem_format_ok(int kind, const char *fmt) {
    switch (kind) {
    case KIND_BOOL: return strcmp(fmt, "b") == 0;
    case KIND_INT2: return strcmp(fmt, "s") == 0;
    case KIND_INT4: return strcmp(fmt, "i") == 0;
    case KIND_INT8: return strcmp(fmt, "l") == 0;
    case KIND_OID: return strcmp(fmt, "I") == 0;
    case KIND_FLOAT4: return strcmp(fmt, "f") == 0;
    case KIND_FLOAT8: return strcmp(fmt, "g") == 0;
    default: return 0;
    }
}

/* Point every column at the buffers of `arr` (a struct array: the record batch). */
static int bind(Encoder *self, const struct ArrowSchema *sch, const struct ArrowArray *arr) {
    if (strcmp(sch->format, "+s") != 0 || arr->n_children != self->ncols || sch->n_children != self->ncols) {
        PyErr_Format(PyExc_ValueError, "the batch has %lld columns, the encoder %d", (long long)arr->n_children,
                     self->ncols);
        return -1;
    }
    for (int i = 0; i < self->ncols; i++) {
        Col *c = &self->cols[i];
        const struct ArrowArray *a = arr->children[i];
        const char *fmt = sch->children[i]->format;
        c->off = a->offset + arr->offset;
        c->valid = (a->null_count != 0 && a->n_buffers > 0) ? a->buffers[0] : NULL;
        c->o32 = NULL;
        c->o64 = NULL;
        if (a->n_children == 0 && a->n_buffers >= 2) c->data = a->buffers[1];
        int rc = 0;
        switch (c->kind) {
        case KIND_BOOL: rc = check_fmt(self, i, fmt, "b", 0); break;
        case KIND_INT2: rc = check_fmt(self, i, fmt, "s", 0); break;
        case KIND_INT4: rc = check_fmt(self, i, fmt, "i", 0); break;
        case KIND_INT8: rc = check_fmt(self, i, fmt, "l", 0); break;
        case KIND_OID: rc = check_fmt(self, i, fmt, "I", 0); break;
        case KIND_FLOAT4: rc = check_fmt(self, i, fmt, "f", 0); break;
        case KIND_FLOAT8: rc = check_fmt(self, i, fmt, "g", 0); break;
        case KIND_DATE: rc = check_fmt(self, i, fmt, "tdD", 0); break;
        case KIND_TIMESTAMP: rc = check_fmt(self, i, fmt, "tsu:", 1); break;
        case KIND_TIME: rc = check_fmt(self, i, fmt, "ttu", 0); break;
        case KIND_UUID: rc = check_fmt(self, i, fmt, "w:16", 0); break;
        case KIND_NUMERIC: case KIND_MONEY: {
            int p = 0, s = 0, w = 128;
            if (sscanf(fmt, "d:%d,%d,%d", &p, &s, &w) < 2 || (w != 128 && w != 256)) {
                rc = check_fmt(self, i, fmt, "d:", 1);
                if (rc == 0) { PyErr_Format(PyExc_TypeError, "column %d: bad decimal format '%s'", i, fmt); rc = -1; }
            }
            c->width = w / 8;
            c->scale = s;
            break;
        }
        case KIND_INTERVAL: {
            const struct ArrowSchema *const *k = (const struct ArrowSchema *const *)sch->children[i]->children;
            if (strcmp(fmt, "+s") != 0 || a->n_children != 3 || strcmp(k[0]->format, "i") || strcmp(k[1]->format, "i") ||
                strcmp(k[2]->format, "l")) {
                PyErr_Format(PyExc_TypeError, "column %d: an interval is struct<int32, int32, int64>", i);
                return -1;
            }
            for (int j = 0; j < 3; j++)
                c->cvalid[j] = a->children[j]->null_count != 0 ? a->children[j]->buffers[0] : NULL;
            c->months = a->children[0]->buffers[1];
            c->days = a->children[1]->buffers[1];
            c->micros = a->children[2]->buffers[1];
            c->moff = a->children[0]->offset;
            c->doff = a->children[1]->offset;
            c->uoff = a->children[2]->offset;
            break;
        }
        case KIND_TEXT: case KIND_JSONB: case KIND_NUMERIC_TEXT: case KIND_TIMETZ_TEXT: case KIND_PGTEXT:
        case KIND_UUID_TEXT: case KIND_INET_TEXT: case KIND_CIDR_TEXT: case KIND_MACADDR_TEXT:
        case KIND_MACADDR8_TEXT:
            if (strcmp(fmt, "z") == 0 || strcmp(fmt, "Z") == 0) return check_fmt(self, i, fmt, "u", 0);
            rc = string_fmt(self, i, fmt, c, a);
            break;
        case KIND_BYTEA:
            if (strcmp(fmt, "u") == 0 || strcmp(fmt, "U") == 0) return check_fmt(self, i, fmt, "z", 0);
            rc = string_fmt(self, i, fmt, c, a);
            break;
        case KIND_LIST: {
            if (strcmp(fmt, "+l") != 0 || a->n_children != 1) return check_fmt(self, i, fmt, "+l", 0);
            const char *ef = sch->children[i]->children[0]->format;
            if (!elem_format_ok(c->elem_kind, ef)) return check_fmt(self, i, ef, "(the list's element type)", 0);
            const struct ArrowArray *e = a->children[0];
            c->o32 = a->buffers[1];
            c->evalid = e->null_count != 0 ? e->buffers[0] : NULL;
            c->edata = e->buffers[1];
            c->eoff = e->offset;
            break;
        }
        }
        if (rc < 0) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ one value */

static inline int64_t str_span(const Col *c, int64_t i, const unsigned char **p) {
    int64_t j = c->off + i;
    if (c->o32) {
        *p = c->data + c->o32[j];
        return (int64_t)c->o32[j + 1] - c->o32[j];
    }
    *p = c->data + c->o64[j];
    return c->o64[j + 1] - c->o64[j];
}

static int elem_value(Buf *b, int kind, const uint8_t *data, int64_t j, int text) {
    switch (kind) {
    case KIND_BOOL: {
        int v = bit(data, j);
        if (text) return put(b, v ? "t" : "f", 1);
        if (field(b, 1) < 0) return -1;
        b->data[b->len++] = (char)v;
        return 0;
    }
    case KIND_INT2: {
        int16_t v;
        memcpy(&v, data + 2 * j, 2);
        if (text) return text_i64(b, v);
        if (field(b, 2) < 0) return -1;
        be16(b, (uint16_t)v);
        return 0;
    }
    case KIND_INT4: case KIND_OID: case KIND_FLOAT4: {
        uint32_t v;
        memcpy(&v, data + 4 * j, 4);
        if (text) {
            if (kind == KIND_INT4) return text_i64(b, (int32_t)v);
            if (kind == KIND_OID) return text_u64(b, v);
            float f;
            memcpy(&f, &v, 4);
            return text_float(b, f, 1);
        }
        if (field(b, 4) < 0) return -1;
        be32(b, v);
        return 0;
    }
    default: { /* INT8, FLOAT8 */
        uint64_t v;
        memcpy(&v, data + 8 * j, 8);
        if (text) {
            if (kind == KIND_INT8) return text_i64(b, (int64_t)v);
            double f;
            memcpy(&f, &v, 8);
            return text_float(b, f, 0);
        }
        if (field(b, 8) < 0) return -1;
        be64(b, v);
        return 0;
    }
    }
}

/* one-dimensional array: binary array_send layout, or {a,b,NULL} text */
static int list_value(Buf *b, const Col *c, int64_t i, int text) {
    int64_t j = c->off + i;
    int64_t lo = c->o32[j], hi = c->o32[j + 1], n = hi - lo;
    if (text) {
        if (put(b, "{", 1) < 0) return -1;
        for (int64_t k = lo; k < hi; k++) {
            if (k > lo && put(b, ",", 1) < 0) return -1;
            int64_t e = c->eoff + k;
            if (c->evalid && !bit(c->evalid, e)) {
                if (put(b, "NULL", 4) < 0) return -1;
            } else if (elem_value(b, c->elem_kind, c->edata, e, 1) < 0) return -1;
        }
        return put(b, "}", 1);
    }
    int hasnull = 0;
    if (c->evalid)
        for (int64_t k = lo; k < hi && !hasnull; k++) hasnull = !bit(c->evalid, c->eoff + k);
    size_t start = b->len;
    if (buf_reserve(b, 4 + 20) < 0) return -1;
    be32(b, 0); /* length, patched below */
    be32(b, n ? 1 : 0);
    be32(b, (uint32_t)hasnull);
    be32(b, (uint32_t)c->elem_oid);
    if (n) {
        be32(b, (uint32_t)n);
        be32(b, 1);
    }
    for (int64_t k = lo; k < hi; k++) {
        int64_t e = c->eoff + k;
        if (c->evalid && !bit(c->evalid, e)) {
            if (buf_reserve(b, 4) < 0) return -1;
            be32(b, 0xFFFFFFFFu);
        } else if (elem_value(b, c->elem_kind, c->edata, e, 0) < 0) return -1;
    }
    uint32_t len = (uint32_t)(b->len - start - 4);
    unsigned char *p = (unsigned char *)b->data + start;
    p[0] = (unsigned char)(len >> 24); p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8); p[3] = (unsigned char)len;
    return 0;
}

static int encode_value(Encoder *self, Buf *b, const Col *c, int64_t i) {
    int text = self->text;
    int64_t j = c->off + i;
    char *err = self->err;
    switch (c->kind) {
    case KIND_BOOL: case KIND_INT2: case KIND_INT4: case KIND_INT8: case KIND_FLOAT4: case KIND_FLOAT8:
    case KIND_OID:
        return elem_value(b, c->kind, c->data, j, text);
    case KIND_DATE: {
        int32_t v;
        memcpy(&v, c->data + 4 * j, 4);
        return text ? text_date(b, v, c->flags & FLAG_INFINITY, err) : bin_date(b, v, c->flags & FLAG_INFINITY, err);
    }
    case KIND_TIMESTAMP: {
        int64_t v;
        memcpy(&v, c->data + 8 * j, 8);
        if (text) return text_timestamp(b, v, c->flags & FLAG_INFINITY, c->flags & FLAG_TZ, err);
        return bin_timestamp(b, v, c->flags & FLAG_INFINITY, err);
    }
    case KIND_TIME: {
        int64_t v;
        memcpy(&v, c->data + 8 * j, 8);
        if (v < 0 || v > USECS_PER_DAY) return fail(err, "time out of range for PostgreSQL");
        if (text) return text_hms(b, v);
        if (field(b, 8) < 0) return -1;
        be64(b, (uint64_t)v);
        return 0;
    }
    case KIND_INTERVAL: {
        int64_t at[3] = {c->moff + i, c->doff + i, c->uoff + i};
        for (int f = 0; f < 3; f++)
            if (c->cvalid[f] && !bit(c->cvalid[f], at[f])) return fail(err, "null field inside an interval value");
        int32_t m = c->months[at[0]], d = c->days[at[1]];
        int64_t u = c->micros[at[2]];
        if (text) return text_interval(b, m, d, u);
        if (field(b, 16) < 0) return -1;
        be64(b, (uint64_t)u);
        be32(b, (uint32_t)d);
        be32(b, (uint32_t)m);
        return 0;
    }
    case KIND_UUID: {
        const unsigned char *u = c->data + 16 * j;
        if (text) return text_uuid(b, u);
        if (field(b, 16) < 0) return -1;
        raw(b, u, 16);
        return 0;
    }
    case KIND_NUMERIC: {
        const unsigned char *p = c->data + (int64_t)c->width * j;
        return text ? text_decimal(b, p, c->width, c->scale) : bin_decimal(b, p, c->width, c->scale, err);
    }
    case KIND_MONEY: {
        int64_t v;
        if (money_value(c->data + (int64_t)c->width * j, c->width, &v, err) < 0) return -1;
        if (text) return text_money(b, v);
        if (field(b, 8) < 0) return -1;
        be64(b, (uint64_t)v);
        return 0;
    }
    case KIND_LIST:
        return list_value(b, c, i, text);
    default: break;
    }
    const unsigned char *s;
    int64_t n = str_span(c, i, &s);
    if (n > 0x3FFFFFFF) return fail(err, "value longer than 1 GB");
    if (text) return c->kind == KIND_BYTEA ? text_bytea(b, s, n) : text_escaped(b, s, n);
    switch (c->kind) {
    case KIND_JSONB:
        if (field(b, (uint32_t)n + 1) < 0) return -1;
        b->data[b->len++] = 1;
        raw(b, s, (size_t)n);
        return 0;
    case KIND_NUMERIC_TEXT: return bin_numeric_text(b, (const char *)s, n, err);
    case KIND_TIMETZ_TEXT: return bin_timetz_text(b, (const char *)s, n, err);
    case KIND_UUID_TEXT: return bin_uuid_text(b, (const char *)s, n, err);
    case KIND_INET_TEXT: return bin_inet_text(b, (const char *)s, n, 0, err);
    case KIND_CIDR_TEXT: return bin_inet_text(b, (const char *)s, n, 1, err);
    case KIND_MACADDR_TEXT: return bin_macaddr_text(b, (const char *)s, n, err);
    case KIND_MACADDR8_TEXT: return bin_macaddr8_text(b, (const char *)s, n, err);
    case KIND_PGTEXT: return fail(err, "a value in PostgreSQL's text form needs the text COPY format");
    default:
        if (field(b, (uint32_t)n) < 0) return -1;
        raw(b, s, (size_t)n);
        return 0;
    }
}

/* Rows [from, to) of the bound batch appended to `b`. -1: self->err / err_col say why
 * (err empty: out of memory). No Python API: runs without the GIL. */
static int encode_rows(Encoder *self, Buf *b, int64_t from, int64_t to) {
    for (int64_t i = from; i < to; i++) {
        if (!self->text) {
            if (buf_reserve(b, 2) < 0) goto nomem;
            be16(b, (uint16_t)self->ncols);
        }
        for (int k = 0; k < self->ncols; k++) {
            const Col *c = &self->cols[k];
            if (self->text && k && put(b, "\t", 1) < 0) goto nomem;
            if (is_null(c, i)) {
                if (self->text) {
                    if (put(b, "\\N", 2) < 0) goto nomem;
                } else {
                    if (buf_reserve(b, 4) < 0) goto nomem;
                    be32(b, 0xFFFFFFFFu);
                }
                continue;
            }
            self->err[0] = 0;
            if (encode_value(self, b, c, i) < 0) {
                self->err_col = k;
                self->rows += i - from;
                return -1;
            }
        }
        if (self->text && put(b, "\n", 1) < 0) goto nomem;
    }
    self->rows += to - from;
    return 0;
nomem:
    self->err[0] = 0;
    self->err_col = -1;
    return -1;
}

static PyObject *encode_error(Encoder *self) {
    if (!self->err[0]) return PyErr_NoMemory();
    PyErr_Format(PyExc_ValueError, "column %d: %s (row %lld)", self->err_col, self->err, (long long)self->rows + 1);
    return NULL;
}

/* ------------------------------------------------------------------ Python: construction */

static int Encoder_init(Encoder *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"specs", "text", NULL};
    PyObject *specs;
    int text = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", kwlist, &specs, &text)) return -1;
    PyObject *seq = PySequence_Fast(specs, "specs must be a sequence of (kind, flags, elem_kind, elem_oid)");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyMem_Free(self->cols);
    self->cols = PyMem_Calloc(n ? (size_t)n : 1, sizeof(Col));
    if (!self->cols) { Py_DECREF(seq); PyErr_NoMemory(); return -1; }
    self->ncols = (int)n;
    self->text = text;
    for (Py_ssize_t i = 0; i < n; i++) {
        Col *c = &self->cols[i];
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "iiii", &c->kind, &c->flags, &c->elem_kind,
                              &c->elem_oid)) {
            Py_DECREF(seq);
            return -1;
        }
        if (c->kind < 0 || c->kind > KIND_LAST || (c->kind == KIND_PGTEXT && !text)) {
            Py_DECREF(seq);
            PyErr_Format(PyExc_ValueError, "column %zd: kind %d is not encodable in this format", i, c->kind);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

static void Encoder_dealloc(Encoder *self) {
    PyMem_Free(self->cols);
    free(self->out.data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The batch's C data interface capsules; pointers valid while *caps is alive. */
static int batch_arrays(PyObject *batch, PyObject **caps, struct ArrowSchema **s, struct ArrowArray **a) {
    *caps = PyObject_CallMethod(batch, "__arrow_c_array__", NULL);
    if (!*caps) return -1;
    if (!PyTuple_Check(*caps) || PyTuple_GET_SIZE(*caps) != 2) {
        Py_CLEAR(*caps);
        PyErr_SetString(PyExc_TypeError, "__arrow_c_array__ must return (schema, array) capsules");
        return -1;
    }
    *s = PyCapsule_GetPointer(PyTuple_GET_ITEM(*caps, 0), "arrow_schema");
    *a = *s ? PyCapsule_GetPointer(PyTuple_GET_ITEM(*caps, 1), "arrow_array") : NULL;
    if (!*a) { Py_CLEAR(*caps); return -1; }
    return 0;
}

static const char BINARY_HEADER[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (char)0xff, '\r', '\n', 0,
                                       0, 0, 0, 0, 0, 0, 0, 0};

static PyObject *Encoder_header(Encoder *self, PyObject *Py_UNUSED(ignored)) {
    return PyBytes_FromStringAndSize(self->text ? "" : BINARY_HEADER, self->text ? 0 : 19);
}

static PyObject *Encoder_trailer(Encoder *self, PyObject *Py_UNUSED(ignored)) {
    return PyBytes_FromStringAndSize(self->text ? "" : "\xff\xff", self->text ? 0 : 2);
}

/* encode(batch) -> bytes: the rows of `batch` (no header, no trailer) */
static PyObject *Encoder_encode(Encoder *self, PyObject *batch) {
    PyObject *caps;
    struct ArrowSchema *s;
    struct ArrowArray *a;
    if (batch_arrays(batch, &caps, &s, &a) < 0) return NULL;
    if (bind(self, s, a) < 0) { Py_DECREF(caps); return NULL; }
    Buf b = {NULL, 0, 0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = encode_rows(self, &b, 0, a->length);
    Py_END_ALLOW_THREADS
    Py_DECREF(caps);
    if (rc < 0) { free(b.data); return encode_error(self); }
    PyObject *res = PyBytes_FromStringAndSize(b.data ? b.data : "", (Py_ssize_t)b.len);
    free(b.data);
    return res;
}

/* ------------------------------------------------------------------ direct libpq path */

typedef void PGconn;
typedef void PGresult;
typedef struct {
    PGresult *(*exec)(PGconn *, const char *);
    int (*status)(const PGresult *);
    int (*putcopy)(PGconn *, const char *, int);
    int (*putend)(PGconn *, const char *);
    PGresult *(*getresult)(PGconn *);
    char *(*errfield)(const PGresult *, int);
    void (*clear)(PGresult *);
    char *(*connerr)(const PGconn *);
} LibPQ;

enum { PGRES_COMMAND_OK = 1, PGRES_COPY_IN = 4 };
enum { ST_OK = 0, ST_PG_ERROR = 2, ST_ENCODE_ERROR = 3 };
#define CHUNK (1 << 18)

typedef struct {
    int status;
    char state[6];
    char msg[512];
} Outcome;

static void keep(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

static void result_error(const LibPQ *pq, PGconn *conn, PGresult *res, Outcome *o) {
    const char *m = res ? pq->errfield(res, 'M') : NULL;
    keep(o->state, sizeof o->state, res ? pq->errfield(res, 'C') : NULL);
    keep(o->msg, sizeof o->msg, (m && *m) ? m : pq->connerr(conn));
    o->status = ST_PG_ERROR;
}

static int parse_libpq(PyObject *args, PGconn **conn, LibPQ *pq, const char *fmt, void *extra1, void *extra2) {
    unsigned long long addr;
    PyObject *fns;
    if (!PyArg_ParseTuple(args, fmt, &addr, &PyTuple_Type, &fns, extra1, extra2)) return -1;
    if (PyTuple_GET_SIZE(fns) != 8) {
        PyErr_SetString(PyExc_ValueError, "expected 8 libpq function addresses");
        return -1;
    }
    void *p[8];
    for (int i = 0; i < 8; i++) {
        p[i] = PyLong_AsVoidPtr(PyTuple_GET_ITEM(fns, i));
        if (!p[i]) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "null libpq function address");
            return -1;
        }
    }
    memcpy(&pq->exec, &p[0], sizeof(void *));
    memcpy(&pq->status, &p[1], sizeof(void *));
    memcpy(&pq->putcopy, &p[2], sizeof(void *));
    memcpy(&pq->putend, &p[3], sizeof(void *));
    memcpy(&pq->getresult, &p[4], sizeof(void *));
    memcpy(&pq->errfield, &p[5], sizeof(void *));
    memcpy(&pq->clear, &p[6], sizeof(void *));
    memcpy(&pq->connerr, &p[7], sizeof(void *));
    *conn = (PGconn *)(uintptr_t)addr;
    if (!*conn) { PyErr_SetString(PyExc_ValueError, "no connection"); return -1; }
    return 0;
}

static PyObject *outcome(const Outcome *o) { return Py_BuildValue("(iss)", o->status, o->state, o->msg); }

static void send_buf(const LibPQ *pq, PGconn *conn, Buf *b, Outcome *o) {
    if (b->len && pq->putcopy(conn, b->data, (int)b->len) != 1) {
        keep(o->msg, sizeof o->msg, pq->connerr(conn));
        o->status = ST_PG_ERROR;
    }
    b->len = 0;
}

/* copy_start(conn, functions, sql) -> (status, sqlstate, message); sends the header */
static PyObject *Encoder_copy_start(Encoder *self, PyObject *args) {
    PGconn *conn;
    LibPQ pq;
    const char *sql;
    PyObject *unused = NULL;
    if (parse_libpq(args, &conn, &pq, "KO!s|O", &sql, &unused) < 0) return NULL;
    Outcome o = {ST_OK, "", ""};
    Py_BEGIN_ALLOW_THREADS
    PGresult *res = pq.exec(conn, sql);
    if (!res || pq.status(res) != PGRES_COPY_IN) result_error(&pq, conn, res, &o);
    if (res) pq.clear(res);
    if (o.status == ST_OK && !self->text) {
        self->out.len = 0;
        if (put(&self->out, BINARY_HEADER, 19) == 0) send_buf(&pq, conn, &self->out, &o);
    }
    Py_END_ALLOW_THREADS
    return outcome(&o);
}

/* copy_batch(conn, functions, batch) -> (status, sqlstate, message); ValueError for a
 * value that cannot be encoded (the caller then ends the COPY with an error) */
static PyObject *Encoder_copy_batch(Encoder *self, PyObject *args) {
    PGconn *conn;
    LibPQ pq;
    PyObject *batch, *unused = NULL;
    if (parse_libpq(args, &conn, &pq, "KO!O|O", &batch, &unused) < 0) return NULL;
    PyObject *caps;
    struct ArrowSchema *s;
    struct ArrowArray *a;
    if (batch_arrays(batch, &caps, &s, &a) < 0) return NULL;
    if (bind(self, s, a) < 0) { Py_DECREF(caps); return NULL; }
    Outcome o = {ST_OK, "", ""};
    int rc = 0;
    Py_BEGIN_ALLOW_THREADS
    int64_t i = 0, n = a->length;
    self->out.len = 0;
    while (i < n && o.status == ST_OK) {
        int64_t step = 256;
        if (step > n - i) step = n - i;
        rc = encode_rows(self, &self->out, i, i + step);
        if (rc < 0) break;
        i += step;
        if (self->out.len >= CHUNK || i == n) send_buf(&pq, conn, &self->out, &o);
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(caps);
    if (self->out.cap > 4 * CHUNK) { /* a huge value grew it: give the memory back */
        free(self->out.data);
        self->out.data = NULL;
        self->out.cap = self->out.len = 0;
    }
    if (rc < 0) return encode_error(self);
    return outcome(&o);
}

/* copy_end(conn, functions, error=None) -> (status, sqlstate, message): the trailer and
 * PQputCopyEnd (with `error`, the server aborts the COPY), then the COPY's result */
static PyObject *Encoder_copy_end(Encoder *self, PyObject *args) {
    PGconn *conn;
    LibPQ pq;
    const char *error = NULL;
    PyObject *unused = NULL;
    if (parse_libpq(args, &conn, &pq, "KO!z|O", &error, &unused) < 0) return NULL;
    Outcome o = {ST_OK, "", ""};
    Py_BEGIN_ALLOW_THREADS
    if (!error && !self->text) {
        self->out.len = 0;
        if (put(&self->out, "\xff\xff", 2) == 0) send_buf(&pq, conn, &self->out, &o);
    }
    if (pq.putend(conn, error) != 1 && o.status == ST_OK) {
        keep(o.msg, sizeof o.msg, pq.connerr(conn));
        o.status = ST_PG_ERROR;
    }
    PGresult *res;
    int first = 1;
    while ((res = pq.getresult(conn)) != NULL) {
        if (pq.status(res) != PGRES_COMMAND_OK && (o.status == ST_OK || first)) result_error(&pq, conn, res, &o);
        first = 0;
        pq.clear(res);
    }
    Py_END_ALLOW_THREADS
    return outcome(&o);
}

static PyObject *Encoder_get_rows(Encoder *self, void *closure) { return PyLong_FromLongLong(self->rows); }

static PyMethodDef Encoder_methods[] = {
    {"header", (PyCFunction)Encoder_header, METH_NOARGS, "The bytes a COPY stream of this format starts with."},
    {"trailer", (PyCFunction)Encoder_trailer, METH_NOARGS, "The bytes a COPY stream of this format ends with."},
    {"encode", (PyCFunction)Encoder_encode, METH_O, "encode(batch) -> bytes of its rows."},
    {"copy_start", (PyCFunction)Encoder_copy_start, METH_VARARGS, "Start COPY ... FROM STDIN on a libpq connection."},
    {"copy_batch", (PyCFunction)Encoder_copy_batch, METH_VARARGS, "Encode and send a batch (GIL released)."},
    {"copy_end", (PyCFunction)Encoder_copy_end, METH_VARARGS, "End (or abort) the COPY; its outcome."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Encoder_getset[] = {
    {"rows", (getter)Encoder_get_rows, NULL, "rows encoded so far", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject EncoderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "adu_postgres._copyenc.Encoder",
    .tp_basicsize = sizeof(Encoder),
    .tp_dealloc = (destructor)Encoder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Encoder(specs, text=False): Arrow batches -> COPY FROM STDIN data; specs: [(kind, flags, elem_kind, elem_oid)]",
    .tp_methods = Encoder_methods,
    .tp_getset = Encoder_getset,
    .tp_init = (initproc)Encoder_init,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_copyenc", "COPY FROM STDIN encoder", -1, NULL};

PyMODINIT_FUNC PyInit__copyenc(void) {
    if (PyType_Ready(&EncoderType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (!m) return NULL;
    Py_INCREF(&EncoderType);
    if (PyModule_AddObject(m, "Encoder", (PyObject *)&EncoderType) < 0) {
        Py_DECREF(&EncoderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
