/*
 * bytes.c
 *		Bounds-checked reading of cxsell's portable serialised formats.
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "bytes.h"

/*
 * Start reading `len` bytes at `data`; malformed bytes are rejected with
 * SQLSTATE `errcode`.
 */
void
CxReaderInit(CxReader *r, const char *data, Size len, const char *what,
			 int errcode)
{
	r->data = data;
	r->len = len;
	r->pos = 0;
	r->what = what;
	r->errcode = errcode;
}

/* Reject the value being read. */
void
CxReaderFail(const CxReader *r, const char *detail)
{
	ereport(ERROR,
			(errcode(r->errcode),
			 errmsg("invalid %s value", r->what),
			 errdetail("%s (at byte %zu of %zu).", detail, r->pos, r->len)));
}

/* Return a pointer to the next `n` bytes and step over them. */
const char *
cx_get_bytes(CxReader *r, Size n)
{
	const char *p;

	if (n > r->len - r->pos)
		CxReaderFail(r, "The value ends too early");
	p = r->data + r->pos;
	r->pos += n;
	return p;
}

uint8
cx_get_u8(CxReader *r)
{
	return (uint8) *cx_get_bytes(r, 1);
}

uint32
cx_get_u32(CxReader *r)
{
	uint32		be;

	memcpy(&be, cx_get_bytes(r, sizeof(be)), sizeof(be));
	return pg_ntoh32(be);
}

uint64
cx_get_u64(CxReader *r)
{
	uint64		be;

	memcpy(&be, cx_get_bytes(r, sizeof(be)), sizeof(be));
	return pg_ntoh64(be);
}

/* A number written by cx_put_varint, in its shortest form. */
uint64
cx_get_varint(CxReader *r)
{
	uint64		v = 0;
	int			shift;

	for (shift = 0; shift < 64; shift += 7)
	{
		uint8		b = cx_get_u8(r);

		if (shift == 63 && b > 1)
			CxReaderFail(r, "A number is out of range");
		v |= (uint64) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
		{
			if (b == 0 && shift > 0)
				CxReaderFail(r, "A number is not in its shortest form");
			return v;
		}
	}
	CxReaderFail(r, "A number is out of range");
}

double
cx_get_f64(CxReader *r)
{
	union
	{
		double		f;
		uint64		u;
	}			x;

	x.u = cx_get_u64(r);
	return x.f;
}

/* Insist that every byte was consumed. */
void
CxReaderEnd(const CxReader *r)
{
	if (r->pos != r->len)
		CxReaderFail(r, "Unexpected bytes follow the value");
}

/* Start a serialised state. */
void
CxStateBegin(StringInfo buf, const char *magic, uint8 version)
{
	initStringInfo(buf);
	appendStringInfoSpaces(buf, VARHDRSZ);
	appendBinaryStringInfo(buf, magic, 3);
	appendStringInfoChar(buf, (char) version);
}

/*
 * Make sure `more` bytes can still be added to a serialised state: a state
 * is one value, at most 1 GB.
 */
void
CxStateReserve(StringInfo buf, Size more)
{
	if (more >= MaxAllocSize - (Size) buf->len)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("an aggregate's partial state is too large to pass between processes"),
				 errdetail("A state passed from a parallel worker is one value of at most 1 GB."),
				 errhint("Run the aggregate in one process (SET max_parallel_workers_per_gather = 0), or give it less input per group.")));
	enlargeStringInfo(buf, (int) more);
}

/* Finish a serialised state: its varlena length. */
bytea *
CxStateEnd(StringInfo buf)
{
	SET_VARSIZE(buf->data, buf->len);
	return (bytea *) buf->data;
}

/*
 * Start reading a serialised value, checking its magic and version; bad
 * bytes fail with `errcode` (data corrupted for aggregate states, invalid
 * binary representation for values a caller passes).
 */
void
CxStateOpen(CxReader *r, bytea *bytes, const char *magic, uint8 version,
			const char *what, int errcode)
{
	CxReaderInit(r, VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), what,
				 errcode);
	if (memcmp(cx_get_bytes(r, 3), magic, 3) != 0)
		CxReaderFail(r, "The bytes do not start with the state's magic number");
	if (cx_get_u8(r) != version)
		CxReaderFail(r, "The state has an unknown version");
}

/* The bytes of a hexadecimal text form; any other text is refused. */
bytea *
CxBytesFromHex(const char *str, const char *type_name, const char *hint)
{
	size_t		len = strlen(str);
	bytea	   *result;
	uint64		n;

	if (len % 2 != 0 || len == 0 || strspn(str, "0123456789abcdefABCDEF") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s", type_name),
				 errdetail("The text form is an even number of hexadecimal digits."),
				 errhint("%s", hint)));
	result = palloc(VARHDRSZ + len / 2);
	n = hex_decode(str, len, VARDATA(result));
	SET_VARSIZE(result, VARHDRSZ + n);
	return result;
}

/* The hexadecimal text form of a value's bytes. */
char *
CxBytesToHex(const bytea *b)
{
	Size		len = VARSIZE_ANY_EXHDR(b);
	char	   *out = palloc(len * 2 + 1);

	hex_encode(VARDATA_ANY(b), len, out);
	out[len * 2] = '\0';
	return out;
}

/* The rest of a binary message as a value's bytes. */
bytea *
CxBytesFromMessage(StringInfo msg)
{
	int			len = msg->len - msg->cursor;
	bytea	   *result = palloc(VARHDRSZ + len);

	SET_VARSIZE(result, VARHDRSZ + len);
	pq_copymsgbytes(msg, VARDATA(result), len);
	return result;
}
