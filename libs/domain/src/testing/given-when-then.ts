import { foldEvents, type Decider } from '../decider';
import { DomainError, type DomainErrorCode } from '../domain-error';

/** What a command did to a stream: the events it appended, and the state after them. */
export interface Outcome<Event, State> {
  events: Event[];
  state: State;
}

/**
 * Given-events / when-command / then-events for a decider:
 * `given(history).when(command).then(expectedEvents)`. Test support only.
 */
export function deciderSpec<Command, Event, State>(decider: Decider<Command, Event, State>) {
  return function given(history: readonly Event[]) {
    const before = foldEvents(decider, history);
    return {
      when(command: Command) {
        const decide = () => decider.decide(command, before);
        return {
          then(expected: readonly Event[]): Outcome<Event, State> {
            const events = decide();
            expect(events).toEqual(expected);
            return { events, state: events.reduce(decider.evolve, before) };
          },
          thenNothing(): void {
            expect(decide()).toEqual([]);
          },
          thenThrows(code: DomainErrorCode, message?: RegExp): DomainError {
            let thrown: unknown;
            try {
              decide();
            } catch (error) {
              thrown = error;
            }
            expect(thrown).toBeInstanceOf(DomainError);
            const error = thrown as DomainError;
            expect(error.code).toBe(code);
            if (message !== undefined) expect(error.message).toMatch(message);
            return error;
          },
          /** The events and resulting state, for assertions on part of them. */
          outcome(): Outcome<Event, State> {
            const events = decide();
            return { events, state: events.reduce(decider.evolve, before) };
          },
        };
      },
    };
  };
}
