/*
 * The fuzz seed corpus generator (fuzz_corpus) is make_corpus.c plus one
 * tests/fuzz/corpus_AREA.c per area; each writes seeds for its targets with
 * the library's own encoders.
 */
#ifndef SKIFF_FUZZ_CORPUS_H
#define SKIFF_FUZZ_CORPUS_H

#include <stddef.h>
#include <stdint.h>

/* Writes one seed file DIR/target/seed-NNN. Exits on an I/O error. */
void corpus_write_seed(const char *target, const uint8_t *p, size_t len);

/* Seeds of the HTTP/3 targets. */
void corpus_qpack_seeds(void);    /* corpus_qpack.c: the qpack_decoder target */
void corpus_h3_frame_seeds(void); /* corpus_h3_frame.c: the h3_frame target */
void corpus_h3_conn_seeds(void);  /* corpus_h3_conn.c: the h3_conn target */

/* Seeds of the TCP targets. */
void corpus_tcp_seeds(void); /* corpus_tcp.c: the tcp_segment target */
void corpus_tcp_input_seeds(void); /* corpus_tcp_input.c: the tcp_input target */

#endif
