/* SPDX-License-Identifier: MIT */
/*
 * A SIP dialog (RFC 3261 §12) as one leg of a call sees it: its identifiers,
 * sequence numbers, route set and remote target, how it is created from a
 * request and response, how in-dialog requests are checked (UAS side) and
 * built (UAC side, with loose and strict routing, §12.2.1.1).
 *
 * Everything a dialog keeps is copied into memory it owns: it outlives the
 * messages it was made from. Singly owned: dialog_new_uas() /
 * dialog_new_uac() and dialog_free().
 */
#ifndef DUET_DIALOG_H
#define DUET_DIALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet/sip_build.h"
#include "duet/sip_msg.h"
#include "duet/slice.h"

enum dialog_role {
	DIALOG_UAS = 0, /* duet answered the dialog-creating request */
	DIALOG_UAC,	/* duet sent it */
};

enum dialog_state {
	DIALOG_EARLY = 0, /* created by a 1xx with a To tag (§12.1) */
	DIALOG_CONFIRMED, /* a 2xx arrived or was sent */
	DIALOG_TERMINATED,
};

#define DIALOG_MAX_ROUTES 16
#define DIALOG_MF_ZERO (-1) /* dialog_req.max_forwards for a literal 0 */

struct dialog {
	enum dialog_role role;
	enum dialog_state state;
	char *call_id;
	char *local_tag;
	char *remote_tag;
	char *local_uri;     /* our name-addr (From of UAC requests) */
	char *remote_uri;    /* the peer's name-addr (To of UAC requests) */
	char *remote_target; /* the peer's Contact URI (without <>) */
	char **route; /* route set: route_count name-addrs "<sip:p1;lr>" in
			 sending order (at most DIALOG_MAX_ROUTES) */
	size_t route_count;
	uint32_t local_cseq;  /* the last CSeq we sent; 0: none yet */
	uint32_t remote_cseq; /* the last CSeq received; 0: none yet */
	bool secure;	      /* sips Request-URI over TLS (§12.1.1) */
};

/**
 * A UAS dialog from a dialog-creating request and the tag duet puts in
 * its response (§12.1.1): route set = Record-Route in order, remote
 * target = the request's Contact, remote CSeq = its CSeq, remote tag = its
 * From tag, local tag = local_tag. state is DIALOG_EARLY when the response
 * is provisional (confirmed later by dialog_confirm), else CONFIRMED.
 * Returns 0, EBADMSG (no Contact, or a request without From tag), ENOMEM,
 * EMSGSIZE (more than DIALOG_MAX_ROUTES Record-Route entries).
 */
int dialog_new_uas(struct dialog **out, const struct sip_msg *req,
		   struct slice local_tag, bool early);

/**
 * A UAC dialog from the request duet sent and a 1xx/2xx with a To tag
 * (§12.1.2): route set = the response's Record-Route reversed, remote
 * target = its Contact, local CSeq = the request's, tags from From and To.
 * EARLY for a 1xx, CONFIRMED for a 2xx. Same errors as dialog_new_uas.
 */
int dialog_new_uac(struct dialog **out, const struct sip_msg *req,
		   const struct sip_msg *resp);

/**
 * A UAC dialog from a 2xx alone, when the request that made it is gone
 * (a retransmitted 2xx after the call ended, which must still be ACKed,
 * §13.2.2.4, and ended with a BYE): From, To, Call-ID and CSeq are the
 * response's copies of the request's. Always CONFIRMED. Same errors as
 * dialog_new_uac.
 */
int dialog_new_uac_from_2xx(struct dialog **out, const struct sip_msg *resp);

void dialog_free(struct dialog *d);

/**
 * A 2xx confirms an early dialog (§12.1.2, §13.2.2.4): on the UAC side the
 * route set and remote target are recomputed from it. On the UAS side
 * resp may be NULL (duet sent the 2xx itself). Returns 0, EINVAL (already
 * confirmed or terminated; UAC: resp not a 2xx or with another To tag),
 * EBADMSG (no Contact), EMSGSIZE (too many Record-Route entries), ENOMEM;
 * on error the dialog is unchanged.
 */
int dialog_confirm(struct dialog *d, const struct sip_msg *resp);

/** Does an in-dialog request or a response belong to this dialog (Call-ID
 * and both tags, §12.2.2)? A response to our request carries our tag in
 * From; a request from the peer carries our tag in To. */
bool dialog_matches(const struct dialog *d, const struct sip_msg *msg);

/**
 * UAS checks of an in-dialog request (§12.2.2): a CSeq lower than or
 * equal to the remote CSeq gets *reject = 500 and the dialog is
 * unchanged; otherwise the remote CSeq is updated. ACK and CANCEL carry
 * the CSeq of the request they refer to: never rejected for it, they do
 * not move the remote CSeq. A target refresh request (re-INVITE, UPDATE,
 * §12.2) with a Contact updates the remote target. Returns 0 (look at
 * *reject: 0 = accept), or ENOMEM (dialog unchanged).
 */
int dialog_on_request(struct dialog *d, const struct sip_msg *req,
		      uint16_t *reject);

/** A 2xx to our re-INVITE/UPDATE refreshes the remote target (§12.2.1.2). */
int dialog_on_refresh_response(struct dialog *d, const struct sip_msg *resp);

/** Options of dialog_build_request(). */
struct dialog_req {
	struct slice method;  /* "BYE", "INVITE", "ACK"... */
	struct slice via;     /* the full Via value (transport, sent-by,
				 branch) the caller chose */
	struct slice contact; /* Contact value to add, or empty */
	uint32_t cseq;	      /* 0: next local CSeq; ACK and CANCEL pass
				 the INVITE's (§13.2.2.4, §9.1) */
	int max_forwards;     /* 0: 70; DIALOG_MF_ZERO: 0 */
};

/**
 * Write the start line and dialog headers of an in-dialog request
 * (§12.2.1.1): Request-URI and Route from the route set and remote target
 * (loose routing when the first route has ;lr, else strict: the first
 * route becomes the Request-URI and the remote target the last Route),
 * From = local uri + tag, To = remote uri + tag, Call-ID, CSeq, Via,
 * Max-Forwards, Contact. The caller adds other headers and finishes with
 * sip_build_finish(). *next_hop (may be NULL) gets the URI to send to
 * (RFC 3263): the first route, or the remote target. It points into d.
 * Returns w->err.
 */
int dialog_build_request(struct dialog *d, struct sip_writer *w,
			 const struct dialog_req *r, struct slice *next_hop);

#endif /* DUET_DIALOG_H */
