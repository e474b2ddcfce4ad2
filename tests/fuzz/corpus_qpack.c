/* Seeds for the qpack fuzz target (filled in with the module). */
#include "corpus.h"

void corpus_qpack_seeds(void) {}
