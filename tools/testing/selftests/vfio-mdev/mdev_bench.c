// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark for `make bench`: create+remove cycles per second of one mdev
 * type through sysfs, single-threaded. Prints figures; never judges them.
 *
 * usage: mdev_bench TYPE SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mdev_util.h"

int main(int argc, char **argv)
{
	char uuid[UUID_STR_LEN + 1];
	double start, elapsed;
	long cycles = 0;
	int err;

	if (argc < 3) {
		fprintf(stderr, "usage: %s TYPE SECONDS\n", argv[0]);
		return 2;
	}
	start = now_seconds();
	do {
		uuid_gen(uuid);
		err = mdev_create(argv[1], uuid);
		if (!err)
			err = mdev_remove(uuid);
		if (err) {
			fprintf(stderr, "create/remove: %s\n", strerror(-err));
			return 1;
		}
		cycles++;
		elapsed = now_seconds() - start;
	} while (elapsed < atof(argv[2]));
	printf("cycles=%ld seconds=%.3f per_second=%.1f us_per_cycle=%.1f\n",
	       cycles, elapsed, cycles / elapsed, elapsed * 1e6 / cycles);
	return 0;
}
