import { Presets, SingleBar } from 'cli-progress';

/** A progress bar, or nothing when none is shown. */
export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

/**
 * Where a command writes (docs/operations.md, "The CLI"): its result on stdout, human text by default or
 * one JSON document with `--json`; diagnostics and progress bars on stderr, the bars only on a terminal and
 * never with `--json`.
 */
export class CliOutput {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  /** The command's result: `report` as JSON, or the text `describe` makes of it. */
  result<T>(report: T, describe: (report: T) => string): void {
    this.stdout.write(this.json ? `${JSON.stringify(report, null, 2)}\n` : describe(report));
  }

  /** A line for the person at the terminal, on stderr (never part of the result). */
  note(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** A bar labelled `label` on stderr while work goes on; a no-op off a terminal or with `--json`. */
  progress(label: string): Progress {
    if (this.json || this.stderr.isTTY !== true) return NO_PROGRESS;
    const bar = new SingleBar(
      {
        stream: this.stderr,
        format: `${label.padEnd(16)} [{bar}] {percentage}% {value}/{total}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update: (done, total) => {
        if (!started) {
          bar.start(Math.max(total, done), done);
          started = true;
        } else {
          bar.setTotal(Math.max(total, done));
          bar.update(done);
        }
      },
      stop: () => {
        if (started) bar.stop();
        started = false;
      },
    };
  }
}
