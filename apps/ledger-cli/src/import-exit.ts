/**
 * Exit codes of the import commands (sysexits.h where one fits): 0 done; 2 done, with rows or notifications
 * a person must look at (rejected, malformed, failed, disagreeing); 1 failure; 64 usage; 66 an input file
 * cannot be read; 78 configuration.
 */
export const IMPORT_EXIT = { ok: 0, failure: 1, attention: 2, usage: 64, noInput: 66, config: 78 } as const;

export type ImportExit = (typeof IMPORT_EXIT)[keyof typeof IMPORT_EXIT];
