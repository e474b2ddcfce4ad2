/* Seeds for the h3_frame fuzz target (filled in with the module). */
#include "corpus.h"

void corpus_h3_frame_seeds(void) {}
