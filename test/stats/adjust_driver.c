/*
 * adjust_driver.c - adjusts p-values with cx_adjust_p of src/stats.c for
 * check_adjust.py.  Reads cases "method m p1 ... pm" (method: none, holm or
 * bh) and prints the m adjusted values of each on one line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/stats.h"

int
main(void)
{
	char		name[8];
	int64_t		m;

	while (scanf("%7s %" SCNd64, name, &m) == 2)
	{
		cx_adjust_method method;
		double	   *p = malloc(sizeof(double) * (size_t) (m > 0 ? m : 1));
		double	   *q = malloc(sizeof(double) * (size_t) (m > 0 ? m : 1));
		cx_ranked_p *work = malloc(sizeof(cx_ranked_p) * (size_t) (m > 0 ? m : 1));
		int64_t		i;

		if (strcmp(name, "bh") == 0)
			method = CX_ADJUST_BH;
		else if (strcmp(name, "holm") == 0)
			method = CX_ADJUST_HOLM;
		else
			method = CX_ADJUST_NONE;
		for (i = 0; i < m; i++)
			if (scanf("%lf", &p[i]) != 1)
				return 1;
		cx_adjust_p(p, m, method, work, q);
		for (i = 0; i < m; i++)
			printf(i ? " %.17g" : "%.17g", q[i]);
		printf("\n");
		free(p);
		free(q);
		free(work);
	}
	return 0;
}
