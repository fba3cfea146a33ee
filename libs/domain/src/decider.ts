/**
 * A decider (docs/events.md, "Order rules (`decideOrder`)"): `decide` turns a command and the current state
 * into the events it causes (none for a duplicate or stale input), `evolve` folds one event into the state.
 * Both are pure; times arrive inside commands.
 */
export interface Decider<Command, Event, State> {
  readonly decide: (command: Command, state: State) => Event[];
  readonly evolve: (state: State, event: Event) => State;
  readonly initialState: () => State;
}

/** The state after a stream's events, folded from the initial state. */
export function foldEvents<Command, Event, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[],
): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}
