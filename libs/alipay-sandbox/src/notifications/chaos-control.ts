import { chaosProblems, type ChaosSettings } from '../sandbox-options';

/** The chaos settings in force; replaced as a whole through the control API. */
export class ChaosControl {
  private current: ChaosSettings;

  constructor(initial: ChaosSettings) {
    this.current = initial;
  }

  get settings(): ChaosSettings {
    return this.current;
  }

  /** Replaces the settings; returns the problems instead when they are invalid (nothing changes then). */
  replace(settings: ChaosSettings): string[] {
    const problems = chaosProblems(settings);
    if (problems.length === 0) this.current = settings;
    return problems;
  }
}
