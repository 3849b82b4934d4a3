/** The OpenAPI document's header; paths and schemas come from the routes' TypeBox schemas. */
export const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'seqserve',
    version: '0.1.0',
    description:
      'Train small sequence models on your own text and serve them. Every error has the shape {"error": {"code", "message", "type", "param"}} (param: the offending field, or null). ' +
      'The WebSocket protocol at GET /ws uses the Ws* schemas below: client frames generate, cancel, subscribe; server frames token, done, progress, error.',
  },
  tags: [
    { name: 'inference', description: 'Generation (JSON or Server-Sent Events)' },
    { name: 'training', description: 'Training jobs on the queue' },
    { name: 'datasets', description: 'Uploaded training data' },
    { name: 'models', description: 'The model store' },
    { name: 'operations', description: 'Health, readiness, docs' },
    { name: 'openai', description: 'OpenAI-compatible API under /v1 (the official openai client works unchanged; docs/openai.md)' },
  ],
};
