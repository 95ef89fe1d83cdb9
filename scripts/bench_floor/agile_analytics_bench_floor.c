/*
 * The floor of the analytics_compile benchmark (scripts/bench_spec.sh), not part of the extension.
 *
 * bench_answer_floor(spec text) returns jsonb like analytics_compile(text), but does no work: it ignores
 * its argument and returns a copy of one stored answer, read once per backend from
 * public.bench_compile_answer (the script puts analytics_compile's answer there). A statement calling it
 * costs what any function returning that answer costs: lexing the literal, resolving and planning the
 * call, calling it, printing the jsonb and sending it. analytics_compile's TPS against this one's shows
 * what its own work costs per statement.
 *
 * bench_empty_floor(spec text) is the same call returning '{}': against bench_answer_floor it shows what
 * the size of the answer costs (PostgreSQL printing it, the client reading it).
 */
#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

static Jsonb *answer = NULL;

PG_FUNCTION_INFO_V1(bench_answer_floor);

Datum
bench_answer_floor(PG_FUNCTION_ARGS)
{
	Jsonb	   *copy;

	if (answer == NULL)
	{
		bool		isnull;
		Jsonb	   *stored;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "bench_answer_floor: SPI_connect failed");
		if (SPI_execute("SELECT a FROM public.bench_compile_answer", true, 2) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "bench_answer_floor: public.bench_compile_answer must hold one row");
		stored = DatumGetJsonbP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull)
			elog(ERROR, "bench_answer_floor: the stored answer is NULL");
		answer = MemoryContextAlloc(TopMemoryContext, VARSIZE(stored));
		memcpy(answer, stored, VARSIZE(stored));
		SPI_finish();
	}
	copy = palloc(VARSIZE(answer));
	memcpy(copy, answer, VARSIZE(answer));
	PG_RETURN_JSONB_P(copy);
}

PG_FUNCTION_INFO_V1(bench_empty_floor);

Datum
bench_empty_floor(PG_FUNCTION_ARGS)
{
	return DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
}
