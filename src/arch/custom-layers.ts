/**
 * Registers every custom layer seqserve saves in models (FusedLSTM, FusedGRU) with
 * tf.serialization. Import it (for its side effect) in any process that loads models: the API
 * loads models it never built, so nothing else would register their classes there.
 */
import './fused-lstm.ts';
import './fused-gru.ts';
