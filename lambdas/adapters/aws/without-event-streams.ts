/**
 * What lib/bundling.ts puts in Lambda bundles in place of `@smithy/core/event-streams` (about 20 KB of every function that
 * calls AWS). The SDK's HTTP protocols load that module only to send or read an event stream, and no operation of the
 * services Gatehouse calls (DynamoDB, Secrets Manager, Step Functions, SES v2) has one: test/lib/bundle-aliases.test.ts
 * checks their schemas for the streaming trait. Should one ever be called, the call fails with this error instead of
 * sending anything. Local mode and tests run unbundled and keep the real module.
 */
export const EVENT_STREAMS_LEFT_OUT = 'AWS event streams are left out of Gatehouse bundles (lib/bundling.ts): no operation Gatehouse calls uses one';

function leftOut(): never {
  throw new Error(EVENT_STREAMS_LEFT_OUT);
}

/** The two names the SDK's HttpProtocol imports (`loadEventStreamCapability`); both fail at once. */
export class EventStreamSerde {
  constructor() {
    leftOut();
  }
}

export function eventStreamSerdeProvider(): never {
  return leftOut();
}
