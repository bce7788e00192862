/*
 * bytes.h
 *		Portable (big-endian) encoding helpers for cxsell's serialised formats.
 *
 * Writers append to a StringInfo; a CxReader reads from a byte range and
 * raises an error, never reads past the end, when the bytes run out.
 */
#ifndef CXSELL_BYTES_H
#define CXSELL_BYTES_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "port/pg_bswap.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

typedef struct CxReader
{
	const char *data;
	Size		len;
	Size		pos;
	const char *what;			/* name of the format, for error messages */
	int			errcode;		/* SQLSTATE of a rejection */
} CxReader;

/* Append n bytes: in place when they fit, as most writers enlarge first. */
static inline void
cx_put_raw(StringInfo buf, const void *p, int n)
{
	if (buf->len + n < buf->maxlen)
	{
		memcpy(buf->data + buf->len, p, n);
		buf->len += n;
		buf->data[buf->len] = '\0';
	}
	else
		appendBinaryStringInfo(buf, p, n);
}

static inline void
cx_put_u32(StringInfo buf, uint32 v)
{
	uint32		be = pg_hton32(v);

	cx_put_raw(buf, &be, sizeof(be));
}

static inline void
cx_put_u64(StringInfo buf, uint64 v)
{
	uint64		be = pg_hton64(v);

	cx_put_raw(buf, &be, sizeof(be));
}

static inline void
cx_put_f64(StringInfo buf, double v)
{
	union
	{
		double		f;
		uint64		u;
	}			x;

	x.f = v;
	cx_put_u64(buf, x.u);
}

/* An unsigned number in 7-bit groups, low group first (1 to 10 bytes). */
static inline void
cx_put_varint(StringInfo buf, uint64 v)
{
	char		b[10];
	int			n = 0;

	do
	{
		b[n++] = (char) ((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	appendBinaryStringInfo(buf, b, n);
}

extern void CxReaderInit(CxReader *r, const char *data, Size len,
						 const char *what, int errcode);
#if PG_VERSION_NUM >= 180000
pg_noreturn extern void CxReaderFail(const CxReader *r, const char *detail);
#else
extern void CxReaderFail(const CxReader *r, const char *detail) pg_attribute_noreturn();
#endif
extern const char *cx_get_bytes(CxReader *r, Size n);
extern uint8 cx_get_u8(CxReader *r);
extern uint32 cx_get_u32(CxReader *r);
extern uint64 cx_get_u64(CxReader *r);
extern uint64 cx_get_varint(CxReader *r);
extern double cx_get_f64(CxReader *r);
extern void CxReaderEnd(const CxReader *r);

/*
 * Serialised aggregate states share one framing: a varlena header, a
 * three-letter magic, a version byte, then the state's own fields.
 */
extern void CxStateBegin(StringInfo buf, const char *magic, uint8 version);
extern void CxStateReserve(StringInfo buf, Size more);
extern bytea *CxStateEnd(StringInfo buf);
extern void CxStateOpen(CxReader *r, bytea *bytes, const char *magic,
						uint8 version, const char *what, int errcode);

/*
 * Types whose value is their bytes (cxsell.patterns, the aggregate states):
 * text form hexadecimal digits, binary form the bytes themselves.
 */
extern bytea *CxBytesFromHex(const char *str, const char *type_name, const char *hint);
extern char *CxBytesToHex(const bytea *b);
extern bytea *CxBytesFromMessage(StringInfo msg);

#endif							/* CXSELL_BYTES_H */
