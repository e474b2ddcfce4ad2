/*
 * Binds an HTTP/3 connection to a QUIC connection: the skiff_h3_transport
 * functions over skiff_conn's stream API. This and h3_quic.c are the only
 * HTTP/3 files that know the QUIC connection, and only its public calls.
 */
#ifndef SKIFF_H3_QUIC_H
#define SKIFF_H3_QUIC_H

#include "h3/h3_conn.h"
#include "quic/connection.h"

/* Fills t so that HTTP/3 runs on c's streams. */
void skiff_h3_quic_transport(skiff_h3_transport *t, skiff_conn *c);

#endif
