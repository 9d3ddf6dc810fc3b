// SPDX-License-Identifier: MIT
/* actplane deny ID: see approve.c */
#include "cli/commands.h"

int ap_cli__decide(const char *verb, int argc, char **argv);

int ap_cmd_deny(int argc, char **argv)
{
	return ap_cli__decide("deny", argc, argv);
}
