// The types of scripts/build-freshness.js, for its test.

export function sourcesFingerprint(root: string): string;

export function buildFreshness(
  root: string,
  entry: string,
  fingerprint: string,
): { fresh: true } | { fresh: false; reason: string };

export function recordBuild(root: string, fingerprint: string): void;
