import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { currentRequest, inRequestContext, runInRequest } from './request-context';

describe('inRequestContext', () => {
  const request = {} as IncomingMessage;
  const response = {} as ServerResponse;

  // A middleware that goes on from a stream event, as the raw-body capture does at the body's end.
  const onEvent = (source: EventEmitter) =>
    inRequestContext((_request, _response, next) => {
      source.once('end', (error?: unknown) => next(error));
    });

  it('goes on in the request that called it, not in the context the event fires in', async () => {
    const source = new EventEmitter();
    const seen = new Promise<string | undefined>((resolve) => {
      runInRequest('request-a', () =>
        onEvent(source)(request, response, () => resolve(currentRequest()?.requestId)),
      );
    });
    runInRequest('request-b', () => setImmediate(() => source.emit('end')));
    expect(await seen).toBe('request-a');
  });

  it('hands on the error the middleware gives', async () => {
    const source = new EventEmitter();
    const failure = new Error('the sender went away');
    const given = new Promise<unknown>((resolve) => {
      runInRequest('request-c', () => onEvent(source)(request, response, resolve));
    });
    setImmediate(() => source.emit('end', failure));
    expect(await given).toBe(failure);
  });

  it('keeps each concurrent request in its own context', async () => {
    const sources = ['r1', 'r2', 'r3'].map((id) => ({ id, source: new EventEmitter() }));
    const seen = sources.map(
      ({ id, source }) =>
        new Promise<string | undefined>((resolve) => {
          runInRequest(id, () =>
            onEvent(source)(request, response, () => resolve(currentRequest()?.requestId)),
          );
        }),
    );
    for (const { source } of [...sources].reverse()) setImmediate(() => source.emit('end'));
    expect(await Promise.all(seen)).toEqual(['r1', 'r2', 'r3']);
  });
});
