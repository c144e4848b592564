/*
 * Return codes shared by every fallible function in spookyd.  A caller
 * needs one decision from a failure: try again later, or give up on this
 * input for good.  Success is 0; pointers use NULL instead.
 */
#ifndef SPOOKYD_CORE_ERR_H
#define SPOOKYD_CORE_ERR_H

/* Transient: network, timeout, HTTP 429/5xx, throttling.  Retry later. */
#define ERR_RETRY (-1)
/* Permanent: this input will never succeed (4xx, bad JSON, bad config). */
#define ERR_FAIL (-2)

/* Size of the caller-owned buffers pure modules write their errors into. */
#define ERR_LEN 256

#endif
