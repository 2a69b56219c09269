/*
 * Network address encoders of adu_postgres._copyenc: the text PostgreSQL's input functions
 * read (inet_in, cidr_in, macaddr_in, macaddr8_in) -> their binary send format. Included
 * by _copyenc.c after copyenc_values.h (Buf, field, fail, hexval).
 *
 * Each parser accepts exactly the spellings the server's input function accepts, quirks
 * included (inet's IPv4 octets with leading zeros, cidr's hexadecimal and classful forms,
 * the prefix length read as a wrapping 32-bit integer as the server, built with -fwrapv,
 * reads it; macaddr's seven sscanf patterns), so a value loads in binary exactly as it
 * would have loaded as text, and what the server would refuse is refused here, before the
 * COPY. tests/postgres/test_pg_load_properties.py checks every spelling against the
 * server's own casts.
 */
#include <ctype.h>

#define PG_AF_INET 2  /* PGSQL_AF_INET: AF_INET + 0 */
#define PG_AF_INET6 3 /* PGSQL_AF_INET6: AF_INET + 1 */

static inline int is_digit(int c) { return c >= '0' && c <= '9'; }

/* A prefix length after '/' (at least one digit, nothing after them) read as the server
 * reads it: a 32-bit int that wraps. *p points at the first digit; -2: not digits to the end. */
static int wrapping_bits(const unsigned char *p, int32_t *bits) {
    uint32_t w = 0;
    if (!is_digit(*p)) return -2;
    while (is_digit(*p)) w = w * 10u + (uint32_t)(*p++ - '0');
    if (*p) return -2;
    *bits = (int32_t)w;
    return 0;
}

/* inet_in's IPv4: 1 to 4 dotted decimal octets, then /bits, or exactly 4 octets without.
 * Returns the prefix length (may be out of range: the caller checks), or -1. */
static int32_t inet4_parse(const unsigned char *s, unsigned char *addr) {
    const unsigned char *p = s;
    int n = 0, ch;
    while (ch = *p++, is_digit(ch)) {
        int v = 0;
        do {
            v = v * 10 + (ch - '0');
            if (v > 255) return -1;
        } while ((ch = *p++) != 0 && is_digit(ch));
        if (n == 4) return -1;
        addr[n++] = (unsigned char)v;
        if (ch == 0 || ch == '/') break;
        if (ch != '.') return -1;
    }
    int32_t bits = -1;
    if (ch == '/' && is_digit(*p) && n > 0) {
        if (wrapping_bits(p, &bits) < 0) return -1;
        if (bits > 32) return -1;
        ch = 0;
    }
    if (ch != 0) return -1;
    if (bits == -1) {
        if (n != 4) return -1;
        bits = 32;
    }
    if (n == 0 || bits / 8 > n) return -1;
    return bits;
}

/* cidr_in's IPv4: dotted decimal octets or 0x hexadecimal nybbles, optional /bits, the
 * prefix length inferred from the address class when absent. Returns it, or -1. */
static int32_t cidr4_parse(const unsigned char *s, unsigned char *addr) {
    const unsigned char *p = s;
    int n = 0, ch = *p++;
    if (ch == '0' && (p[0] == 'x' || p[0] == 'X') && hexval((char)p[1]) >= 0) {
        int half = 0, acc = 0;
        p++;
        while ((ch = *p++) != 0 && hexval((char)ch) >= 0) {
            acc = half ? (acc << 4) | hexval((char)ch) : hexval((char)ch);
            if (++half == 2) {
                if (n == 4) return -1;
                addr[n++] = (unsigned char)acc;
                half = 0;
            }
        }
        if (half) {
            if (n == 4) return -1;
            addr[n++] = (unsigned char)(acc << 4);
        }
    } else if (is_digit(ch)) {
        for (;;) {
            int v = 0;
            do {
                v = v * 10 + (ch - '0');
                if (v > 255) return -1;
            } while ((ch = *p++) != 0 && is_digit(ch));
            if (n == 4) return -1;
            addr[n++] = (unsigned char)v;
            if (ch == 0 || ch == '/') break;
            if (ch != '.') return -1;
            ch = *p++;
            if (!is_digit(ch)) return -1;
        }
    } else
        return -1;
    int32_t bits = -1;
    if (ch == '/' && is_digit(*p) && n > 0) {
        if (wrapping_bits(p, &bits) < 0) return -1;
        if (bits > 32) return -1;
        ch = 0;
    }
    if (ch != 0 || n == 0) return -1;
    if (bits == -1) { /* classful */
        int a = addr[0];
        bits = a >= 240 ? 32 : a >= 224 ? 8 : a >= 192 ? 24 : a >= 128 ? 16 : 8;
        if (bits < n * 8) bits = n * 8;
        if (bits == 8 && a == 224) bits = 4;
    }
    return bits; /* the octets not written stay zero */
}

/* A prefix length in an IPv6 spelling: 1 to 3 digits, no leading zero, at most 128. */
static int ipv6_bits(const unsigned char *p, int32_t *bits) {
    int n = 0, v = 0;
    for (; *p; p++) {
        if (!is_digit(*p) || (n++ && v == 0)) return 0;
        v = v * 10 + (*p - '0');
        if (v > 128) return 0;
    }
    if (!n) return 0;
    *bits = v;
    return 1;
}

/* The dotted IPv4 tail of an IPv6 spelling (up to 4 octets, no leading zeros, an empty
 * octet reads as 0), optionally followed by /bits. 1 when read, 0 otherwise. */
static int ipv6_v4_tail(const unsigned char *p, unsigned char *dst, int32_t *bits) {
    int n = 0, k = 0;
    unsigned v = 0;
    for (int ch; (ch = *p++) != 0;) {
        if (is_digit(ch)) {
            if (n++ && v == 0) return 0;
            v = v * 10 + (unsigned)(ch - '0');
            if (v > 255) return 0;
        } else if (ch == '.' || ch == '/') {
            if (k > 3) return 0;
            dst[k++] = (unsigned char)v;
            if (ch == '/') return ipv6_bits(p, bits);
            v = 0;
            n = 0;
        } else
            return 0;
    }
    if (n == 0 || k > 3) return 0;
    dst[k] = (unsigned char)v;
    return 1;
}

/* inet_in's and cidr_in's IPv6: hexadecimal groups, one "::", an IPv4 tail, /bits.
 * Returns the prefix length (128 when absent), or -1. */
static int32_t ipv6_parse(const unsigned char *s, unsigned char *addr) {
    unsigned char tmp[16] = {0}, *tp = tmp, *const endp = tmp + 16, *gap = NULL;
    const unsigned char *p = s, *token;
    int ch, have_digit = 0, digits = 0;
    unsigned v = 0;
    int32_t bits = -1;
    if (*p == ':' && *++p != ':') return -1;
    token = p;
    while ((ch = *p++) != 0) {
        int h = hexval((char)ch);
        if (h >= 0) {
            v = (v << 4) | (unsigned)h;
            if (++digits > 4) return -1;
            have_digit = 1;
            continue;
        }
        if (ch == ':') {
            token = p;
            if (!have_digit) {
                if (gap) return -1;
                gap = tp;
                continue;
            }
            if (*p == 0 || tp + 2 > endp) return -1;
            *tp++ = (unsigned char)(v >> 8);
            *tp++ = (unsigned char)v;
            have_digit = digits = 0;
            v = 0;
            continue;
        }
        if (ch == '.' && tp + 4 <= endp && ipv6_v4_tail(token, tp, &bits)) {
            tp += 4;
            have_digit = 0;
            break;
        }
        if (ch == '/' && ipv6_bits(p, &bits)) break;
        return -1;
    }
    if (have_digit) {
        if (tp + 2 > endp) return -1;
        *tp++ = (unsigned char)(v >> 8);
        *tp++ = (unsigned char)v;
    }
    if (bits == -1) bits = 128;
    if (gap) { /* "::": move what follows it to the end */
        long n = tp - gap;
        if (tp == endp) return -1;
        for (long i = 1; i <= n; i++) {
            endp[-i] = gap[n - i];
            gap[n - i] = 0;
        }
        tp = endp;
    }
    if (tp != endp) return -1;
    memcpy(addr, tmp, 16);
    return bits;
}

/* True when no bit right of the first `bits` is set (what cidr requires). */
static int cidr_mask_ok(const unsigned char *addr, int bits, int nbytes) {
    for (int i = 0; i < nbytes; i++) {
        int keep = bits - 8 * i; /* bits of this byte inside the mask */
        unsigned char mask = keep >= 8 ? 0 : keep <= 0 ? 0xff : (unsigned char)(0xff >> keep);
        if (addr[i] & mask) return 0;
    }
    return 1;
}

/* A string of an Arrow array as a NUL-terminated copy (small: on the stack); NULL when it
 * holds a NUL byte (no PostgreSQL text does) or memory runs out (*oom set). */
static const unsigned char *cstring(const char *s, int64_t len, unsigned char *small, size_t cap, int *oom) {
    *oom = 0;
    if (memchr(s, 0, (size_t)len)) return NULL;
    unsigned char *d = (size_t)len < cap ? small : malloc((size_t)len + 1);
    if (!d) {
        *oom = 1;
        return NULL;
    }
    memcpy(d, s, (size_t)len);
    d[len] = 0;
    return d;
}

/* inet_out's/cidr_out's text (or any spelling inet_in/cidr_in read) -> network_send's
 * bytes: family, bits, is_cidr, address length, address. */
static int bin_inet_text(Buf *b, const char *s, int64_t len, int is_cidr, char *err) {
    unsigned char small[128], addr[16] = {0};
    int oom;
    const unsigned char *z = cstring(s, len, small, sizeof small, &oom);
    if (!z) return oom ? -1 : fail(err, is_cidr ? "not a cidr in PostgreSQL's text form" : "not an inet in PostgreSQL's text form");
    int v6 = strchr((const char *)z, ':') != NULL;
    int32_t bits = v6 ? ipv6_parse(z, addr) : is_cidr ? cidr4_parse(z, addr) : inet4_parse(z, addr);
    int nbytes = v6 ? 16 : 4;
    int rc = 0;
    if (bits < 0 || bits > 8 * nbytes)
        rc = fail(err, is_cidr ? "not a cidr in PostgreSQL's text form" : "not an inet in PostgreSQL's text form");
    else if (is_cidr && !cidr_mask_ok(addr, bits, nbytes))
        rc = fail(err, "invalid cidr value: bits set to the right of the mask");
    else if (field(b, 4 + (uint32_t)nbytes) < 0)
        rc = -1;
    else {
        unsigned char head[4] = {v6 ? PG_AF_INET6 : PG_AF_INET, (unsigned char)bits, (unsigned char)is_cidr,
                                 (unsigned char)nbytes};
        raw(b, head, 4);
        raw(b, addr, (size_t)nbytes);
    }
    if (z != small) free((void *)z);
    return rc;
}

/* macaddr_in: the server reads a macaddr with sscanf and these patterns, in this order
 * (%x skips white space and takes a sign and a 0x prefix; %1s catches trailing garbage). */
static const char *const MACADDR_PATTERNS[] = {
    "%x:%x:%x:%x:%x:%x%1s",   "%x-%x-%x-%x-%x-%x%1s",   "%2x%2x%2x:%2x%2x%2x%1s", "%2x%2x%2x-%2x%2x%2x%1s",
    "%2x%2x.%2x%2x.%2x%2x%1s", "%2x%2x-%2x%2x-%2x%2x%1s", "%2x%2x%2x%2x%2x%2x%1s",
};

static int bin_macaddr_text(Buf *b, const char *s, int64_t len, char *err) {
    unsigned char mac[6];
    int fast = len == 17;
    for (int k = 0; fast && k < 6; k++) { /* macaddr_out's own form, without sscanf */
        int hi = hexval(s[3 * k]), lo = hexval(s[3 * k + 1]);
        if (hi < 0 || lo < 0 || (k < 5 && s[3 * k + 2] != ':')) fast = 0;
        else mac[k] = (unsigned char)(hi << 4 | lo);
    }
    if (!fast) {
        unsigned char small[128];
        int oom, o[6], count = 0;
        char junk[2];
        const unsigned char *z = cstring(s, len, small, sizeof small, &oom);
        if (!z) return oom ? -1 : fail(err, "not a macaddr in PostgreSQL's text form");
        for (size_t i = 0; i < sizeof MACADDR_PATTERNS / sizeof *MACADDR_PATTERNS && count != 6; i++)
            count = sscanf((const char *)z, MACADDR_PATTERNS[i], &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], junk);
        if (z != small) free((void *)z);
        if (count != 6) return fail(err, "not a macaddr in PostgreSQL's text form");
        for (int k = 0; k < 6; k++) {
            if (o[k] < 0 || o[k] > 255) return fail(err, "invalid octet value in a macaddr");
            mac[k] = (unsigned char)o[k];
        }
    }
    if (field(b, 6) < 0) return -1;
    raw(b, mac, 6);
    return 0;
}

static inline int c_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* macaddr8_in: 6 or 8 pairs of hex digits, one separator (':', '-' or '.') used
 * throughout and optional after any pair, white space before and after; a 6-byte address
 * becomes EUI-64 (FF:FE in the middle). */
static int bin_macaddr8_text(Buf *b, const char *s, int64_t len, char *err) {
    unsigned char small[128], m[8];
    int oom, count = 0, rc = 0;
    const unsigned char *z = cstring(s, len, small, sizeof small, &oom);
    if (!z) return oom ? -1 : fail(err, "not a macaddr8 in PostgreSQL's text form");
    const unsigned char *p = z;
    unsigned char sep = 0;
    while (*p && c_space(*p)) p++;
    while (p[0] && p[1]) {
        int hi = p[0] < 128 ? hexval((char)p[0]) : -1, lo = p[1] < 128 ? hexval((char)p[1]) : -1;
        if (++count > 8 || hi < 0 || lo < 0) goto bad;
        m[count - 1] = (unsigned char)(hi << 4 | lo);
        p += 2;
        if (*p == ':' || *p == '-' || *p == '.') {
            if (!sep) sep = *p;
            else if (sep != *p) goto bad;
            p++;
        }
        if ((count == 6 || count == 8) && c_space(*p)) {
            while (*++p && c_space(*p))
                ;
            if (*p) goto bad;
        }
    }
    if (count == 6) {
        m[7] = m[5];
        m[6] = m[4];
        m[5] = m[3];
        m[3] = 0xFF;
        m[4] = 0xFE;
    } else if (count != 8)
        goto bad;
    if (field(b, 8) < 0) rc = -1;
    else raw(b, m, 8);
    if (z != small) free((void *)z);
    return rc;
bad:
    if (z != small) free((void *)z);
    return fail(err, "not a macaddr8 in PostgreSQL's text form");
}
