/* main.c: placeholder until the daemon lands in the foundation commit. */
#include <stdio.h>

#include "core/log.h"

int
main(void)
{
    log_init(LOG_TARGET_AUTO);
    log_info(NULL, "spookyd %s", SPOOKYD_VERSION);
    return 0;
}
