import { openApiDocument, type OpenApiDocument, type ServerSpec } from './document.js';

/** The servers of the copy published in the repository; a running deployment puts its own issuer first instead. */
export const PUBLISHED_SERVERS: readonly ServerSpec[] = [
  {
    url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/v1',
    description:
      'A deployment on AWS: the API Gateway stage (the stack’s ApiUrl output). Each deployment also serves this document at /openapi.json with its own URL.',
    variables: {
      restApiId: { default: 'restApiId', description: 'The REST API id.' },
      region: { default: 'eu-west-2', description: 'The AWS Region of the stack.' },
    },
  },
  { url: 'http://127.0.0.1:3000', description: 'Local mode (`npm start`; PORT changes the port).' },
];

/** Where the published copy lives, relative to the repository root. */
export const PUBLISHED_FILE = 'openapi.json';

/** The published document: generated with the published servers. */
export function publishedDocument(): OpenApiDocument {
  return openApiDocument({ servers: PUBLISHED_SERVERS });
}

/** The document as the published file holds it (stable key order, two-space indent, final newline). */
export function serializeDocument(document: OpenApiDocument): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
