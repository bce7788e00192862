EXTENSION = cxsell

MODULE_big = cxsell
OBJS = \
	src/cxsell.o \
	src/args.o \
	src/memlimit.o \
	src/callctx.o \
	src/datum_cache.o \
	src/bytes.o \
	src/value_io.o \
	src/mine_state.o \
	src/mine_layout.o \
	src/mine_final.o \
	src/mine_weights.o \
	src/hierarchy.o \
	src/son.o \
	src/mine_out.o \
	src/eclat.o \
	src/eclat_dense.o \
	src/patterns.o \
	src/sequences.o \
	src/sequence_mine.o \
	src/sequence_rules.o \
	src/itemsets.o \
	src/rules.o \
	src/item_pairs.o \
	src/measures.o \
	src/query_text.o \
	src/result.o \
	src/stats.o \
	src/features.o \
	src/kmeans.o \
	src/kmeans_agg.o \
	src/kmeans_dist.o \
	src/kmodel.o \
	src/silhouette.o \
	src/rates.o \
	src/gains.o \
	src/expanded_state.o \
	src/chisq.o \
	src/recommend.o \
	src/txn.o \
	src/pinned.o \
	src/stored_query.o \
	src/managed.o

# the current version installs as 0.1 plus the update scripts
DATA = cxsell--0.1.sql cxsell--0.1--0.2.sql cxsell--0.2--0.3.sql cxsell--0.3--0.4.sql cxsell--0.4--0.5.sql cxsell--0.5--0.6.sql

# setup defines helpers the other tests use, so it runs first
TESTS = $(wildcard sql/*.sql)
REGRESS = setup $(filter-out setup,$(patsubst sql/%.sql,%,$(TESTS)))
REGRESS_OPTS = --inputdir=. --load-extension=cxsell

PG_CONFIG ?= pg_config

# PostgreSQL's own headers are not -Wextra clean; treat them as system headers
# so that -Wall -Wextra reports on cxsell's code alone.
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -DCX_IN_POSTGRES
PG_CFLAGS = -Wall -Wextra

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# the regression tests in the order they run (used by tools/test.sh)
regress-list:
	@echo $(REGRESS)

# every object depends on the project's headers
$(OBJS): $(wildcard src/*.h)
