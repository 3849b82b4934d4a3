/** The OpenAPI document's header; paths and schemas come from the routes' TypeBox schemas. */
export const OPENAPI_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'seqserve',
    version: '0.1.0',
    description:
      'Train small sequence models on your own text and serve them. Every error has the shape {"error": {"code", "message", "type", "param"}} (param: the offending field, or null). ' +
      'The WebSocket protocol at GET /ws uses the Ws* schemas below: client frames generate, cancel, subscribe; server frames token, done, progress, error. ' +
      'With API keys configured (docs/auth.md), requests need `Authorization: Bearer <key>` or `x-api-key` with the route\'s scope (infer, train or admin): 401 invalid_api_key, 403 insufficient_scope; a WebSocket authenticates by its upgrade headers or a first auth frame.',
  },
  // With API keys configured (docs/auth.md) every route but the open ones (security: []) needs a key,
  // as a bearer token or in x-api-key; each route's scope is listed in docs/auth.md.
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http' as const, scheme: 'bearer', description: 'An API key: `Authorization: Bearer <key>` (what the openai client sends as apiKey).' },
      apiKeyHeader: { type: 'apiKey' as const, in: 'header' as const, name: 'x-api-key', description: 'The same API key in the x-api-key header.' },
    },
  },
  security: [{ bearerAuth: [] }, { apiKeyHeader: [] }] as Array<Record<string, string[]>>,
  tags: [
    { name: 'inference', description: 'Generation (JSON or Server-Sent Events)' },
    { name: 'training', description: 'Training jobs on the queue' },
    { name: 'datasets', description: 'Uploaded training data' },
    { name: 'models', description: 'The model store' },
    { name: 'operations', description: 'Health, readiness, docs' },
    { name: 'openai', description: 'OpenAI-compatible API under /v1 (the official openai client works unchanged; docs/openai.md)' },
  ],
};
