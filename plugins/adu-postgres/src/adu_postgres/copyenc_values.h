/*
 * Value encoders of adu_postgres._copyenc: one Arrow value -> PostgreSQL's binary send
 * format or its text COPY format. Included by _copyenc.c only (static functions).
 *
 * Every function appends to a Buf and returns 0, or -1 with a message in `err` (a value
 * PostgreSQL cannot hold, malformed text) or, with err[0] == 0, on out of memory.
 */
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <math.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} Buf;

static int buf_grow(Buf *b, size_t extra) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + extra) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static inline int buf_reserve(Buf *b, size_t extra) {
    return (b->len + extra <= b->cap) ? 0 : buf_grow(b, extra);
}

static inline void raw(Buf *b, const void *p, size_t n) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline int put(Buf *b, const void *p, size_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    raw(b, p, n);
    return 0;
}

static inline void be16(Buf *b, uint16_t v) {
    unsigned char *p = (unsigned char *)b->data + b->len;
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
    b->len += 2;
}
static inline void be32(Buf *b, uint32_t v) {
    unsigned char *p = (unsigned char *)b->data + b->len;
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
    b->len += 4;
}
static inline void be64(Buf *b, uint64_t v) {
    be32(b, (uint32_t)(v >> 32));
    be32(b, (uint32_t)v);
}

/* A binary field: its int32 length, then (by the caller) its bytes. */
static inline int field(Buf *b, uint32_t len) {
    if (buf_reserve(b, 4 + (size_t)len) < 0) return -1;
    be32(b, len);
    return 0;
}

static int fail(char *err, const char *msg) {
    snprintf(err, 256, "%s", msg);
    return -1;
}

/* ------------------------------------------------------------------ integers as text */

/* Decimal digits of v into the end of tmp[32]; returns the start. */
static inline char *u64_digits(uint64_t v, char *end) {
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static int text_i64(Buf *b, int64_t v) {
    char tmp[32];
    char *end = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_digits(u, end);
    if (v < 0) *--p = '-';
    return put(b, p, (size_t)(end - p));
}

static int text_u64(Buf *b, uint64_t v) {
    char tmp[32];
    char *end = tmp + sizeof tmp;
    char *p = u64_digits(v, end);
    return put(b, p, (size_t)(end - p));
}

/* ------------------------------------------------------------------ floats as text */

/* %.17g / %.9g read back to the same bits (float8in/float4in round correctly). */
static int text_float(Buf *b, double v, int is_float4) {
    if (isnan(v)) return put(b, "NaN", 3);
    if (isinf(v)) return v > 0 ? put(b, "Infinity", 8) : put(b, "-Infinity", 9);
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, is_float4 ? "%.9g" : "%.17g", v);
    return put(b, tmp, (size_t)n);
}

/* ------------------------------------------------------------------ decimals */

/* |value| of a little-endian two's complement integer of `width` bytes (16 or 32) as
 * decimal digits in out[80] (no leading zeros; "0" for zero). Returns the digit count. */
static int decimal_digits(const unsigned char *p, int width, char *out, int *neg) {
    uint64_t w[4] = {0, 0, 0, 0};
    int limbs = width / 8;
    memcpy(w, p, (size_t)width);
    *neg = (int)(w[limbs - 1] >> 63);
    if (*neg) { /* two's complement negate */
        uint64_t carry = 1;
        for (int i = 0; i < limbs; i++) {
            uint64_t v = ~w[i] + carry;
            carry = (carry && v == 0) ? 1 : 0;
            w[i] = v;
        }
    }
    char tmp[96];
    char *end = tmp + sizeof tmp, *q = end;
    /* divide by 10^19 while more than one limb is in use, then print the last limb */
    const uint64_t BIG = 10000000000000000000ULL;
    for (;;) {
        int top = limbs - 1;
        while (top > 0 && w[top] == 0) top--;
        if (top == 0) break;
        unsigned __int128 rem = 0;
        for (int i = top; i >= 0; i--) {
            unsigned __int128 cur = (rem << 64) | w[i];
            w[i] = (uint64_t)(cur / BIG);
            rem = cur % BIG;
        }
        uint64_t r = (uint64_t)rem;
        for (int k = 0; k < 19; k++) {
            *--q = (char)('0' + r % 10);
            r /= 10;
        }
    }
    q = u64_digits(w[0], q);
    while (q < end - 1 && *q == '0') q++; /* zeros of the 10^19 blocks above the top */
    int n = (int)(end - q);
    memcpy(out, q, (size_t)n);
    return n;
}

static inline int floordiv4(int e) { return e >= 0 ? e / 4 : -((-e + 3) / 4); }

static const uint16_t POW10_4[4] = {1, 10, 100, 1000};

/*
 * A numeric in binary send format from the decimal digits d[0..n) of its absolute value,
 * `point` of them before the decimal point (may be <= 0 or > n), with display scale
 * `dscale` and sign `neg`.
 */
static int bin_numeric_digits(Buf *b, const char *d, int n, int point, int dscale, int neg) {
    while (n > 0 && d[0] == '0') { d++; n--; point--; }
    while (n > 0 && d[n - 1] == '0') n--;
    if (n == 0) {
        if (field(b, 8) < 0) return -1;
        be16(b, 0); be16(b, 0); be16(b, 0); be16(b, (uint16_t)dscale);
        return 0;
    }
    int g_first = floordiv4(point - 1), g_last = floordiv4(point - n);
    int ng = g_first - g_last + 1;
    if (g_first > 32767 || g_last < -32768 || dscale > 0x3FFF) {
        return -2; /* out of numeric's range: the caller reports it */
    }
    if (field(b, (uint32_t)(8 + 2 * ng)) < 0) return -1;
    be16(b, (uint16_t)ng);
    be16(b, (uint16_t)(int16_t)g_first);
    be16(b, neg ? 0x4000 : 0x0000);
    be16(b, (uint16_t)dscale);
    unsigned char *groups = (unsigned char *)b->data + b->len;
    memset(groups, 0, 2 * (size_t)ng);
    for (int i = 0; i < n; i++) {
        int e = point - 1 - i;
        int g = floordiv4(e);
        int idx = g_first - g;
        uint16_t v = (uint16_t)((groups[2 * idx] << 8) | groups[2 * idx + 1]);
        v = (uint16_t)(v + (d[i] - '0') * POW10_4[e - 4 * g]);
        groups[2 * idx] = (unsigned char)(v >> 8);
        groups[2 * idx + 1] = (unsigned char)v;
    }
    b->len += 2 * (size_t)ng;
    return 0;
}

static const uint64_t POW10_U64[4] = {1, 10, 100, 1000};

/* bin_decimal for a value whose unscaled integer fits in an int64 (nearly every decimal of
 * a table: numeric(p, s) with p <= 18) and scale >= 0: the base-10000 groups straight from
 * the integer, without decimal digits. Same bytes as bin_numeric_digits. -3: not such a value. */
static int bin_decimal_int64(Buf *b, const unsigned char *p, int width, int scale) {
    int64_t lo, hi;
    memcpy(&lo, p, 8);
    memcpy(&hi, p + 8, 8);
    if (scale < 0 || scale > 0x3FFF || hi != (lo < 0 ? -1 : 0)) return -3;
    if (width == 32) {
        int64_t h2, h3;
        memcpy(&h2, p + 16, 8);
        memcpy(&h3, p + 24, 8);
        if (h2 != hi || h3 != hi) return -3;
    }
    int neg = lo < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)lo : (uint64_t)lo;
    int pad = (4 - scale % 4) % 4; /* digits that align the point on a group boundary */
    if (u > UINT64_MAX / 1000) return -3;
    u *= POW10_U64[pad];
    int frac_groups = (scale + pad) / 4;
    uint16_t g[8]; /* least significant first; 2^64 < 10000^5 */
    int n = 0;
    while (u) {
        g[n++] = (uint16_t)(u % 10000);
        u /= 10000;
    }
    int low = 0;
    while (low < n && g[low] == 0) low++;
    int ng = n - low;
    if (field(b, (uint32_t)(8 + 2 * ng)) < 0) return -1;
    be16(b, (uint16_t)ng);
    be16(b, (uint16_t)(int16_t)(ng ? n - 1 - frac_groups : 0));
    be16(b, ng && neg ? 0x4000 : 0x0000);
    be16(b, (uint16_t)scale);
    for (int k = n - 1; k >= low; k--) be16(b, g[k]);
    return 0;
}

static int bin_decimal(Buf *b, const unsigned char *p, int width, int scale, char *err) {
    int fast = bin_decimal_int64(b, p, width, scale);
    if (fast != -3) return fast;
    char digs[96];
    int neg;
    int n = decimal_digits(p, width, digs, &neg);
    int rc = bin_numeric_digits(b, digs, n, n - scale, scale > 0 ? scale : 0, neg);
    return rc == -2 ? fail(err, "value out of numeric's range") : rc;
}

static int text_decimal(Buf *b, const unsigned char *p, int width, int scale) {
    char digs[96];
    int neg;
    int n = decimal_digits(p, width, digs, &neg);
    if (buf_reserve(b, (size_t)n + (scale > 0 ? (size_t)scale : (size_t)-scale) + 4) < 0) return -1;
    if (neg) raw(b, "-", 1);
    if (scale <= 0) {
        raw(b, digs, (size_t)n);
        if (n > 1 || digs[0] != '0')
            for (int i = 0; i < -scale; i++) raw(b, "0", 1);
        return 0;
    }
    if (n <= scale) {
        raw(b, "0.", 2);
        for (int i = n; i < scale; i++) raw(b, "0", 1);
        raw(b, digs, (size_t)n);
    } else {
        raw(b, digs, (size_t)(n - scale));
        raw(b, ".", 1);
        raw(b, digs + n - scale, (size_t)scale);
    }
    return 0;
}

/* numeric_out's text (-?digits[.digits], NaN, Infinity, -Infinity) -> binary numeric */
static int bin_numeric_text(Buf *b, const char *s, int64_t len, char *err) {
    uint16_t special = 0;
    if (len == 3 && memcmp(s, "NaN", 3) == 0) special = 0xC000;
    else if (len == 8 && memcmp(s, "Infinity", 8) == 0) special = 0xD000;
    else if (len == 9 && memcmp(s, "-Infinity", 9) == 0) special = 0xF000;
    if (special) {
        if (field(b, 8) < 0) return -1;
        be16(b, 0); be16(b, 0); be16(b, special); be16(b, 0);
        return 0;
    }
    int64_t i = 0;
    int neg = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) { neg = s[i] == '-'; i++; }
    char small[256];
    char *d = len <= (int64_t)sizeof small ? small : malloc((size_t)len);
    if (!d) return -1;
    int n = 0, point = -1, any = 0;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') { d[n++] = c; any = 1; }
        else if (c == '.' && point < 0) point = n;
        else { any = 0; break; }
    }
    int rc;
    if (!any || i < len || n > 0x7FFFFFF) rc = fail(err, "not a numeric in PostgreSQL's text form");
    else {
        int dscale = point < 0 ? 0 : n - point;
        rc = bin_numeric_digits(b, d, n, point < 0 ? n : point, dscale, neg);
        if (rc == -2) rc = fail(err, "value out of numeric's range");
    }
    if (d != small) free(d);
    return rc;
}

/* money from decimal128(19, s): the unscaled integer is the money's int64 */
static int money_value(const unsigned char *p, int width, int64_t *out, char *err) {
    int64_t lo, hi;
    memcpy(&lo, p, 8);
    memcpy(&hi, p + 8, 8);
    if (width == 32) {
        int64_t h2, h3;
        memcpy(&h2, p + 16, 8);
        memcpy(&h3, p + 24, 8);
        if (h2 != hi || h3 != hi) return fail(err, "value out of money's range");
    }
    if (hi != (lo < 0 ? -1 : 0)) return fail(err, "value out of money's range");
    *out = lo;
    return 0;
}

/* money as text for a session with lc_monetary = 'C' (two fractional digits, '.'):
 * the int64 PostgreSQL stores is the unscaled value, whatever the export's scale */
static int text_money(Buf *b, int64_t v) {
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char tmp[40];
    char *end = tmp + sizeof tmp;
    char *p = end;
    *--p = (char)('0' + u % 10);
    u /= 10;
    *--p = (char)('0' + u % 10);
    u /= 10;
    *--p = '.';
    p = u64_digits(u, p);
    if (v < 0) *--p = '-';
    return put(b, p, (size_t)(end - p));
}

/* ------------------------------------------------------------------ dates and times */

#define UNIX_EPOCH_JDATE 2440588     /* julian day of 1970-01-01 */
#define PG_EPOCH_DAYS 10957          /* 2000-01-01 - 1970-01-01 */
#define PG_EPOCH_MICROS 946684800000000LL
#define USECS_PER_DAY 86400000000LL

/* julian day -> proleptic Gregorian year (<= 0 for BC), month, day (PostgreSQL's j2date) */
static void j2date(int64_t jd, int *year, int *month, int *day) {
    uint64_t julian = (uint64_t)jd + 32044;
    uint64_t quad = julian / 146097;
    uint64_t extra = (julian - quad * 146097) * 4 + 3;
    julian += 60 + quad * 3 + extra / 146097;
    quad = julian / 1461;
    julian -= quad * 1461;
    int64_t y = (int64_t)(julian * 4 / 1461);
    julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366)) + 123;
    y += (int64_t)quad * 4;
    *year = (int)(y - 4800);
    quad = julian * 2141 / 65536;
    *day = (int)(julian - 7834 * quad / 256);
    *month = (int)((quad + 10) % 12 + 1);
}

/* "YYYY-MM-DD" of a day count since 1970-01-01; *bc set for years before 1 */
static int text_ymd(Buf *b, int64_t days, int *bc, char *err) {
    int64_t jd = days + UNIX_EPOCH_JDATE;
    if (jd < 0 || jd > 2147483647LL) return fail(err, "date out of range for PostgreSQL");
    int y, m, d;
    j2date(jd, &y, &m, &d);
    *bc = y <= 0;
    if (*bc) y = -(y - 1);
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", y, m, d);
    return put(b, tmp, (size_t)n);
}

static int text_hms(Buf *b, int64_t micros) {
    int64_t secs = micros / 1000000, frac = micros % 1000000;
    char tmp[48];
    int n = snprintf(tmp, sizeof tmp, "%02lld:%02lld:%02lld.%06lld", (long long)(secs / 3600),
                     (long long)(secs / 60 % 60), (long long)(secs % 60), (long long)frac);
    return put(b, tmp, (size_t)n);
}

static int text_date(Buf *b, int32_t v, int sentinels, char *err) {
    if (sentinels && v == INT32_MAX) return put(b, "infinity", 8);
    if (sentinels && (v == -INT32_MAX || v == INT32_MIN)) return put(b, "-infinity", 9);
    int bc;
    if (text_ymd(b, v, &bc, err) < 0) return -1;
    return bc ? put(b, " BC", 3) : 0;
}

static int bin_date(Buf *b, int32_t v, int sentinels, char *err) {
    int32_t out;
    if (sentinels && v == INT32_MAX) out = INT32_MAX;
    else if (sentinels && (v == -INT32_MAX || v == INT32_MIN)) out = INT32_MIN;
    else {
        int64_t pg = (int64_t)v - PG_EPOCH_DAYS;
        if (pg <= INT32_MIN || pg >= INT32_MAX) return fail(err, "date out of range for PostgreSQL");
        out = (int32_t)pg;
    }
    if (field(b, 4) < 0) return -1;
    be32(b, (uint32_t)out);
    return 0;
}

static int text_timestamp(Buf *b, int64_t v, int sentinels, int tz, char *err) {
    if (sentinels && v == INT64_MAX) return put(b, "infinity", 8);
    if (sentinels && (v == -INT64_MAX || v == INT64_MIN)) return put(b, "-infinity", 9);
    int64_t days = v / USECS_PER_DAY, t = v % USECS_PER_DAY;
    if (t < 0) { t += USECS_PER_DAY; days -= 1; }
    int bc;
    if (text_ymd(b, days, &bc, err) < 0) return -1;
    if (put(b, " ", 1) < 0 || text_hms(b, t) < 0) return -1;
    if (tz && put(b, "+00", 3) < 0) return -1;
    return bc ? put(b, " BC", 3) : 0;
}

static int bin_timestamp(Buf *b, int64_t v, int sentinels, char *err) {
    int64_t out;
    if (sentinels && v == INT64_MAX) out = INT64_MAX;
    else if (sentinels && (v == -INT64_MAX || v == INT64_MIN)) out = INT64_MIN;
    else if (__builtin_sub_overflow(v, PG_EPOCH_MICROS, &out) || out == INT64_MIN || out == INT64_MAX)
        return fail(err, "timestamp out of range for PostgreSQL");
    if (field(b, 8) < 0) return -1;
    be64(b, (uint64_t)out);
    return 0;
}

static int text_interval(Buf *b, int32_t months, int32_t days, int64_t micros) {
    char tmp[96];
    int n = snprintf(tmp, sizeof tmp, "%d mons %d days %lld usecs", (int)months, (int)days, (long long)micros);
    return put(b, tmp, (size_t)n);
}

/* timetz_out's text (HH:MM:SS[.f]{+|-}HH[:MM[:SS]]) -> binary (int64 time, int32 zone) */
static int bin_timetz_text(Buf *b, const char *s, int64_t len, char *err) {
    int64_t i = 0, part[3] = {0, 0, 0}, frac = 0;
    for (int k = 0; k < 3; k++) {
        if (k && (i >= len || s[i++] != ':')) goto bad;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && nd < 6) { part[k] = part[k] * 10 + (s[i++] - '0'); nd++; }
        if (nd == 0) goto bad;
    }
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd == 6) goto bad;
            frac = frac * 10 + (s[i++] - '0');
            nd++;
        }
        if (nd == 0) goto bad;
        for (; nd < 6; nd++) frac *= 10;
    }
    if (i >= len || (s[i] != '+' && s[i] != '-')) goto bad;
    int sign = s[i++] == '-' ? -1 : 1;
    int64_t off[3] = {0, 0, 0};
    for (int k = 0; k < 3 && i < len; k++) {
        if (k && s[i++] != ':') goto bad;
        int nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && nd < 2) { off[k] = off[k] * 10 + (s[i++] - '0'); nd++; }
        if (nd == 0) goto bad;
    }
    if (i != len) goto bad;
    int64_t t = ((part[0] * 60 + part[1]) * 60 + part[2]) * 1000000 + frac;
    int64_t zone = -sign * (off[0] * 3600 + off[1] * 60 + off[2]);
    if (field(b, 12) < 0) return -1;
    be64(b, (uint64_t)t);
    be32(b, (uint32_t)(int32_t)zone);
    return 0;
bad:
    return fail(err, "not a timetz in PostgreSQL's text form");
}

/* uuid_in's text -> the 16 bytes of uuid_recv: 32 hex digits (either case), optionally in
 * braces, a hyphen allowed after any group of four digits (what uuid_in accepts). */
static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* hex digit -> value, anything else -> 0xFF (no branch per character: uuids are random) */
static const unsigned char HEXVAL[256] = {
    ['0'] = 0 + 1, ['1'] = 1 + 1, ['2'] = 2 + 1, ['3'] = 3 + 1, ['4'] = 4 + 1, ['5'] = 5 + 1, ['6'] = 6 + 1,
    ['7'] = 7 + 1, ['8'] = 8 + 1, ['9'] = 9 + 1, ['a'] = 10 + 1, ['b'] = 11 + 1, ['c'] = 12 + 1, ['d'] = 13 + 1,
    ['e'] = 14 + 1, ['f'] = 15 + 1, ['A'] = 10 + 1, ['B'] = 11 + 1, ['C'] = 12 + 1, ['D'] = 13 + 1, ['E'] = 14 + 1,
    ['F'] = 15 + 1,
}; /* stored +1 so that the table's zeros mean "not a hex digit" */

/* uuid_out's own form (8-4-4-4-12, either case): 16 bytes, or -1 */
static inline int uuid_canonical(const unsigned char *s, unsigned char *u) {
    static const unsigned char at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    if (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return -1;
    unsigned bad = 0;
    for (int k = 0; k < 16; k++) {
        unsigned hi = HEXVAL[s[at[k]]], lo = HEXVAL[s[at[k] + 1]];
        bad |= (hi - 1) | (lo - 1); /* a zero entry wraps to all ones */
        u[k] = (unsigned char)((hi - 1) << 4 | (lo - 1));
    }
    return (bad & ~0xFu) ? -1 : 0;
}

static int bin_uuid_text(Buf *b, const char *s, int64_t len, char *err) {
    unsigned char u[16];
    if (len == 36 && uuid_canonical((const unsigned char *)s, u) == 0) {
        if (field(b, 16) < 0) return -1;
        raw(b, u, 16);
        return 0;
    }
    int64_t i = 0;
    int braces = len > 0 && s[0] == '{';
    if (braces) i++;
    for (int k = 0; k < 16; k++) {
        if (i + 2 > len) goto bad;
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0) goto bad;
        u[k] = (unsigned char)(hi << 4 | lo);
        i += 2;
        if (k % 2 && k > 0 && k < 15 && i < len && s[i] == '-') i++;
    }
    if (braces && (i >= len || s[i++] != '}')) goto bad;
    if (i != len) goto bad;
    if (field(b, 16) < 0) return -1;
    raw(b, u, 16);
    return 0;
bad:
    return fail(err, "not a uuid in PostgreSQL's text form");
}

/* ------------------------------------------------------------------ text and bytes */

/* `s` as a field of COPY's text format: backslash, newline, carriage return and tab escaped */
static int text_escaped(Buf *b, const unsigned char *s, int64_t len) {
    if (buf_reserve(b, (size_t)len * 2) < 0) return -1;
    char *o = b->data + b->len;
    for (int64_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        default: *o++ = (char)c;
        }
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

static const char HEX[] = "0123456789abcdef";

/* bytea as COPY text: \\x then hex (the backslash itself escaped for COPY) */
static int text_bytea(Buf *b, const unsigned char *s, int64_t len) {
    if (buf_reserve(b, 3 + 2 * (size_t)len) < 0) return -1;
    char *o = b->data + b->len;
    *o++ = '\\'; *o++ = '\\'; *o++ = 'x';
    for (int64_t i = 0; i < len; i++) {
        *o++ = HEX[s[i] >> 4];
        *o++ = HEX[s[i] & 15];
    }
    b->len = (size_t)(o - b->data);
    return 0;
}

static int text_uuid(Buf *b, const unsigned char *u) {
    if (buf_reserve(b, 36) < 0) return -1;
    char *o = b->data + b->len;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = HEX[u[i] >> 4];
        *o++ = HEX[u[i] & 15];
    }
    b->len += 36;
    return 0;
}
