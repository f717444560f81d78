/* SPDX-License-Identifier: MIT */
/* The error vocabulary of duet (see include/duet/err.h). */
#include "duet/err.h"

const char *duet_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case EINVAL:
		return "invalid argument";
	case ENOMEM:
		return "out of memory";
	case EBADMSG:
		return "malformed input";
	case ENODATA:
		return "incomplete input";
	case EMSGSIZE:
		return "limit exceeded";
	case ENOENT:
		return "no match";
	case ETIMEDOUT:
		return "timed out";
	default:
		return "unknown error";
	}
}

const char *duet_errname(int err)
{
	switch (err) {
	case 0:
		return "0";
	case EINVAL:
		return "EINVAL";
	case ENOMEM:
		return "ENOMEM";
	case EBADMSG:
		return "EBADMSG";
	case ENODATA:
		return "ENODATA";
	case EMSGSIZE:
		return "EMSGSIZE";
	case ENOENT:
		return "ENOENT";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	default:
		return "E?";
	}
}
