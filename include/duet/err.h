/* SPDX-License-Identifier: MIT */
/*
 * duet error codes. Every fallible function returns 0 or one of these
 * positive errno values, each with one meaning across the code base:
 *
 *   EINVAL     a bad argument from the caller
 *   ENOMEM     an allocation failed
 *   EBADMSG    malformed input (a reason string says what)
 *   ENODATA    incomplete input: stream framing waits for more bytes
 *   EMSGSIZE   a configured limit was exceeded
 *   ENOENT     no match (no such transaction, dialog, route...)
 *   ETIMEDOUT  a timer ran out
 *
 * SIP status codes are results, not errors.
 */
#ifndef DUET_ERR_H
#define DUET_ERR_H

#include <errno.h>

/** A short, static, human-readable text for one of the codes above. */
const char *duet_strerror(int err);

/** The symbolic name ("EBADMSG") of a code, or "E?" if unknown. */
const char *duet_errname(int err);

#endif /* DUET_ERR_H */
