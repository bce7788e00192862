/*
 * stats_driver.c - reads "n_ac n_a n_c n" lines from stdin and prints
 * "logpmf greater less two_sided" for each, for check_stats.py.
 */
#include <inttypes.h>
#include <stdio.h>

#include "../../src/stats.h"

int
main(void)
{
	int64_t		n_ac,
				n_a,
				n_c,
				n;

	while (scanf("%" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64,
				 &n_ac, &n_a, &n_c, &n) == 4)
		printf("%.17g %.17g %.17g %.17g\n",
			   cx_hyper_logpmf(n_ac, n_c, n_a, n),
			   cx_fisher_greater(n_ac, n_a, n_c, n),
			   cx_fisher_less(n_ac, n_a, n_c, n),
			   cx_fisher_two_sided(n_ac, n_a, n_c, n));
	return 0;
}
