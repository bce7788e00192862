/*
 * sequences.c
 *		The cxsell.sequences type: its stored format, validation and I/O.
 *
 * A cxsell.sequences value holds the result of one cxsell.mine_sequences
 * run.  Like cxsell.patterns, its bytes are the same on disk, in binary I/O
 * and (hex-encoded) in text I/O; all integers are big-endian.  Version 1:
 *
 *	"CXS" u8 version=1
 *	u64 n (customers), f64 min_support, u32 max_len, u64 min_count
 *	u8 time kind (0 integer, 1 date, 2 timestamp, 3 timestamptz), u64 window
 *	u32 nitems; per item: u32 length, the item's text
 *	per item: u64 count, u64 follow count
 *	u64 nseqs; per sequence: u32 length, u64 count, f64 median gap,
 *	length x u32 item numbers
 *
 * Every value read from outside is validated in full before any other code
 * looks at it.
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "bytes.h"
#include "mine_state.h"
#include "sequences.h"

#define SEQUENCES_VERSION 1

PG_FUNCTION_INFO_V1(sequences_in);
PG_FUNCTION_INFO_V1(sequences_out);
PG_FUNCTION_INFO_V1(sequences_recv);
PG_FUNCTION_INFO_V1(sequences_send);
PG_FUNCTION_INFO_V1(sequences_summary);

/* The bytes of the value of `s`, its varlena header included. */
static Size
EncodedSize(const CxSequences *s)
{
	Size		size = VARHDRSZ + 4 + 8 + 8 + 4 + 8 + 1 + 8 + 4 + 8;
	int32		i;
	int64		q;

	for (i = 0; i < s->nitems; i++)
		size += 4 + strlen(s->item_name[i]) + 16;
	for (q = 0; q < s->nseqs; q++)
		size += 20 + 4 * (Size) s->seq_len[q];
	return size;
}

/*
 * Refuse a value of `size` bytes holding (at least) nseqs sequences that
 * cannot be one cxsell.sequences value.
 */
void
CxCheckSequencesSize(Size size, int64 nseqs)
{
	if (size >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("mined sequences are too large for one cxsell.sequences value"),
				 errdetail("%lld sequences would take %zu bytes; the limit is %zu.",
						   (long long) nseqs, size, (Size) MaxAllocSize),
				 errhint("Raise min_support, shorten within or bound the length with max_len.")));
}

/* Encode mined sequences as a cxsell.sequences varlena. */
bytea *
CxSequencesEncode(const CxSequences *s)
{
	StringInfoData buf;
	Size		size = EncodedSize(s);
	int32		i;
	int64		q;

	CxCheckSequencesSize(size, s->nseqs);
	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) size);
	appendStringInfoSpaces(&buf, VARHDRSZ);
	appendBinaryStringInfo(&buf, "CXS", 3);
	appendStringInfoChar(&buf, SEQUENCES_VERSION);
	cx_put_u64(&buf, s->n);
	cx_put_f64(&buf, s->min_support);
	cx_put_u32(&buf, (uint32) s->max_len);
	cx_put_u64(&buf, s->min_count);
	appendStringInfoChar(&buf, (char) s->time_kind);
	cx_put_u64(&buf, (uint64) s->window);
	cx_put_u32(&buf, s->nitems);
	for (i = 0; i < s->nitems; i++)
	{
		Size		len = strlen(s->item_name[i]);

		cx_put_u32(&buf, len);
		appendBinaryStringInfo(&buf, s->item_name[i], len);
	}
	for (i = 0; i < s->nitems; i++)
	{
		cx_put_u64(&buf, s->item_count[i]);
		cx_put_u64(&buf, s->item_follow[i]);
	}
	cx_put_u64(&buf, s->nseqs);
	for (q = 0; q < s->nseqs; q++)
	{
		int32		k;

		cx_put_u32(&buf, s->seq_len[q]);
		cx_put_u64(&buf, s->seq_count[q]);
		cx_put_f64(&buf, s->seq_gap[q]);
		for (k = 0; k < s->seq_len[q]; k++)
			cx_put_u32(&buf, s->seq_items[s->seq_off[q] + k]);
	}
	Assert((Size) buf.len == size);
	SET_VARSIZE(buf.data, buf.len);
	return (bytea *) buf.data;
}

/* The number of the sequence `items` (k item numbers), or -1. */
int64
CxSequencesFind(const CxSequences *s, const uint32 *items, int32 k)
{
	if (k < 1 || k > s->max_size)
		return -1;
	return CxSearchItemLists(s->seq_items, s->seq_off, s->size_first[k],
							 s->size_first[k + 1], items, k);
}

/* The items whose text is `name`, in s->by_name: see CxFindItemName. */
int32
CxSequencesFindItem(CxSequences *s, const char *name, int32 *count)
{
	return CxFindItemName(s->item_name, s->nitems, &s->by_name,
						  GetMemoryChunkContext(s), name, count);
}

/* Read the sequences, checking their order and counts as they come. */
static void
DecodeSeqs(CxReader *r, CxSequences *s)
{
	uint64		nseqs = cx_get_u64(r);
	int64		nitems_total = 0;
	int64		cap;
	int64		q;

	/* each sequence takes at least 24 bytes */
	if (nseqs > (r->len - r->pos) / 24 || nseqs < (uint64) s->nitems)
		CxReaderFail(r, "The sequence count does not match the bytes present or the items");
	s->nseqs = (int64) nseqs;
	s->seq_len = palloc_extended(Max(nseqs, 1) * sizeof(int32), MCXT_ALLOC_HUGE);
	s->seq_count = palloc_extended(Max(nseqs, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	s->seq_gap = palloc_extended(Max(nseqs, 1) * sizeof(double), MCXT_ALLOC_HUGE);
	s->seq_off = palloc_extended(Max(nseqs, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	cap = (int64) (r->len - r->pos) / 4 + 1;
	s->seq_items = palloc_extended(cap * sizeof(uint32), MCXT_ALLOC_HUGE);
	s->max_size = 0;
	for (q = 0; q < s->nseqs; q++)
	{
		uint32		len = cx_get_u32(r);
		int32		k;
		uint32	   *items;

		if ((q & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		if (len < 1 || (s->max_len > 0 && len > (uint32) s->max_len) ||
			len > (r->len - r->pos) / 4)
			CxReaderFail(r, "A sequence's length is out of range");
		s->seq_len[q] = (int32) len;
		s->seq_count[q] = (int64) cx_get_u64(r);
		s->seq_gap[q] = cx_get_f64(r);
		s->seq_off[q] = nitems_total;
		items = s->seq_items + nitems_total;
		for (k = 0; k < (int32) len; k++)
		{
			items[k] = cx_get_u32(r);
			if (items[k] >= (uint32) s->nitems)
				CxReaderFail(r, "A sequence refers to an item that is not in the value");
		}
		nitems_total += len;
		if (s->seq_count[q] < s->min_count || s->seq_count[q] > s->n)
			CxReaderFail(r, "A sequence's count is out of range");
		if (q < s->nitems)
		{
			if (len != 1 || items[0] != (uint32) q || s->seq_count[q] != s->item_count[q] ||
				s->seq_gap[q] != 0.0)
				CxReaderFail(r, "The single items do not come first, in order, with their counts");
		}
		else if (len < 2 || isnan(s->seq_gap[q]) || !(s->seq_gap[q] > 0.0) ||
				 s->seq_gap[q] > (double) s->window)
			CxReaderFail(r, "A sequence's median gap is out of range");
		if (q > 0 &&
			(s->seq_len[q - 1] > (int32) len ||
			 (s->seq_len[q - 1] == (int32) len &&
			  CxCompareItemLists(s->seq_items + s->seq_off[q - 1], items, len) >= 0)))
			CxReaderFail(r, "The sequences are not in canonical order");
		s->max_size = Max(s->max_size, (int32) len);
	}
	s->size_first = palloc0((s->max_size + 2) * sizeof(int64));
	{
		int32		k = 1;

		for (q = 0; q < s->nseqs; q++)
			while (k < s->seq_len[q])
				s->size_first[++k] = q;
		while (k <= s->max_size)
			s->size_first[++k] = s->nseqs;
	}
}

/*
 * Check what the counts of a sequence imply: its prefix and its suffix one
 * item shorter are stored with counts at least its own, and its count is at
 * most the follow count of its last item.  Each sequence's prefix is kept
 * for the readers.
 */
static void
CheckSubsequences(CxReader *r, CxSequences *s)
{
	int64		q;

	s->seq_prefix = palloc_extended(Max(s->nseqs, 1) * sizeof(int64), MCXT_ALLOC_HUGE);
	for (q = 0; q < s->nitems; q++)
		s->seq_prefix[q] = -1;
	for (q = s->nitems; q < s->nseqs; q++)
	{
		const uint32 *items = s->seq_items + s->seq_off[q];
		int32		k = s->seq_len[q];
		int64		prefix = CxSequencesFind(s, items, k - 1);
		int64		suffix = CxSequencesFind(s, items + 1, k - 1);

		if ((q & 4095) == 0)
			CHECK_FOR_INTERRUPTS();
		if (prefix < 0 || suffix < 0 ||
			s->seq_count[prefix] < s->seq_count[q] ||
			s->seq_count[suffix] < s->seq_count[q] ||
			s->item_follow[items[k - 1]] < s->seq_count[q])
			CxReaderFail(r, "A sequence's count exceeds the count of a shorter sequence in it");
		s->seq_prefix[q] = prefix;
	}
}

/* Decode and validate the bytes of a cxsell.sequences value. */
static CxSequences *
SequencesDecode(const char *data, Size len, int errcode)
{
	CxReader	r;
	CxSequences *s = palloc0(sizeof(CxSequences));
	int32		i;

	CxReaderInit(&r, data, len, "cxsell.sequences", errcode);
	if (memcmp(cx_get_bytes(&r, 3), "CXS", 3) != 0)
		CxReaderFail(&r, "The bytes do not start with the cxsell.sequences magic number");
	if (cx_get_u8(&r) != SEQUENCES_VERSION)
		CxReaderFail(&r, "The value has an unknown format version");
	s->n = (int64) cx_get_u64(&r);
	s->min_support = cx_get_f64(&r);
	s->max_len = (int32) cx_get_u32(&r);
	s->min_count = (int64) cx_get_u64(&r);
	s->time_kind = cx_get_u8(&r);
	s->window = (int64) cx_get_u64(&r);
	if (s->n < 1 || s->n > PG_INT64_MAX / 4)
		CxReaderFail(&r, "The customer count is out of range");
	if (!(s->min_support > 0.0 && s->min_support <= 1.0))
		CxReaderFail(&r, "min_support is out of range");
	if (s->max_len < 0)
		CxReaderFail(&r, "max_len is out of range");
	if (s->min_count < 1 || s->min_count > s->n ||
		(double) s->min_count / (double) s->n < s->min_support ||
		(s->min_count > 1 &&
		 (double) (s->min_count - 1) / (double) s->n >= s->min_support))
		CxReaderFail(&r, "min_count does not follow from n and min_support");
	if (s->time_kind > CX_TIME_TIMESTAMPTZ)
		CxReaderFail(&r, "The time kind is unknown");
	if (s->window < 1)
		CxReaderFail(&r, "The window is out of range");
	CxDecodeItemNames(&r, &s->nitems, &s->item_name);
	if ((Size) s->nitems > (r.len - r.pos) / 16)
		CxReaderFail(&r, "The item counts exceed the bytes present");
	s->item_count = palloc(Max(s->nitems, 1) * sizeof(int64));
	s->item_follow = palloc(Max(s->nitems, 1) * sizeof(int64));
	for (i = 0; i < s->nitems; i++)
	{
		s->item_count[i] = (int64) cx_get_u64(&r);
		s->item_follow[i] = (int64) cx_get_u64(&r);
		if (s->item_count[i] < s->min_count || s->item_count[i] > s->n ||
			s->item_follow[i] < 0 || s->item_follow[i] > s->item_count[i])
			CxReaderFail(&r, "An item's count is out of range");
	}
	DecodeSeqs(&r, s);
	CheckSubsequences(&r, s);
	CxReaderEnd(&r);
	return s;
}

/* Decode a detoasted cxsell.sequences value (a CxDecodeFn). */
static void *
DecodeDetoasted(Datum d, MemoryContext cxt pg_attribute_unused())
{
	bytea	   *b = (bytea *) DatumGetPointer(d);

	return SequencesDecode(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b),
						   ERRCODE_DATA_CORRUPTED);
}

/* The value decoded once per calling expression (see datum_cache.c). */
CxSequences *
CxSequencesFromDatumCached(FmgrInfo *flinfo, Datum d)
{
	return (CxSequences *) CxCachedDecode(flinfo, d, DecodeDetoasted);
}

/* Text input: the hex digits of the stored bytes, validated in full. */
Datum
sequences_in(PG_FUNCTION_ARGS)
{
	bytea	   *result = CxBytesFromHex(PG_GETARG_CSTRING(0), "cxsell.sequences",
										"Build values with cxsell.mine_sequences() rather than by hand.");

	(void) SequencesDecode(VARDATA(result), VARSIZE(result) - VARHDRSZ,
						   ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_BYTEA_P(result);
}

/* Text output: the stored bytes as hex digits. */
Datum
sequences_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(CxBytesToHex(PG_GETARG_BYTEA_PP(0)));
}

/* Binary input: the stored bytes, validated in full. */
Datum
sequences_recv(PG_FUNCTION_ARGS)
{
	bytea	   *result = CxBytesFromMessage((StringInfo) PG_GETARG_POINTER(0));

	(void) SequencesDecode(VARDATA(result), VARSIZE(result) - VARHDRSZ,
						   ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_BYTEA_P(result);
}

/* Binary output: the stored bytes. */
Datum
sequences_send(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(PG_GETARG_BYTEA_P_COPY(0));
}

/* The name of a time kind, as the summary shows it. */
static const char *
TimeKindName(int32 kind)
{
	switch (kind)
	{
		case CX_TIME_INTEGER:
			return "integer";
		case CX_TIME_DATE:
			return "date";
		case CX_TIME_TIMESTAMP:
			return "timestamp";
	}
	return "timestamptz";
}

/* cxsell.summary(sequences): one row describing a sequence mining result. */
Datum
sequences_summary(PG_FUNCTION_ARGS)
{
	CxSequences *s = CxSequencesFromDatumCached(fcinfo->flinfo, PG_GETARG_DATUM(0));
	Datum		values[9];
	bool		nulls[9] = {0};

	values[0] = Int64GetDatum(s->n);
	values[1] = Float8GetDatum(s->min_support);
	values[2] = Int64GetDatum(s->min_count);
	values[3] = Int32GetDatum(s->max_len);
	values[4] = CStringGetTextDatum(TimeKindName(s->time_kind));
	values[5] = Float8GetDatum(CxTimeUnitsToGap(s->time_kind, (double) s->window));
	values[6] = Int32GetDatum(s->nitems);
	values[7] = Int64GetDatum(s->nseqs);
	values[8] = Int32GetDatum(s->max_size);
	PG_RETURN_DATUM(CxResultRow(fcinfo, values, nulls));
}
