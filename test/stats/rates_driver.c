/*
 * rates_driver.c - evaluates the rate statistics of src/stats.c for
 * check_rates.py.  Reads one case per line and prints one result line:
 *
 *	Q p					-> the normal quantile
 *	W s n confidence	-> lower upper of the Wilson interval
 *	C x df				-> the chi-square upper tail
 *	Z xa na xb nb		-> z p_value (or "nan nan" when undefined)
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "../../src/stats.h"

int
main(void)
{
	char		kind;

	while (scanf(" %c", &kind) == 1)
	{
		if (kind == 'Q')
		{
			double		p;

			if (scanf("%lf", &p) != 1)
				return 1;
			printf("%.17g\n", cx_normal_quantile(p));
		}
		else if (kind == 'W')
		{
			int64_t		s,
						n;
			double		conf,
						lo,
						hi;

			if (scanf("%" SCNd64 " %" SCNd64 " %lf", &s, &n, &conf) != 3)
				return 1;
			cx_wilson_interval(s, n, conf, &lo, &hi);
			printf("%.17g %.17g\n", lo, hi);
		}
		else if (kind == 'C')
		{
			double		x,
						df;

			if (scanf("%lf %lf", &x, &df) != 2)
				return 1;
			printf("%.17g\n", cx_chi2_sf(x, df));
		}
		else if (kind == 'Z')
		{
			int64_t		xa,
						na,
						xb,
						nb;
			double		z = NAN,
						p = NAN;

			if (scanf("%" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64,
					  &xa, &na, &xb, &nb) != 4)
				return 1;
			(void) cx_two_proportion_z(xa, na, xb, nb, &z, &p);
			printf("%.17g %.17g\n", z, p);
		}
		else
			return 1;
	}
	return 0;
}
