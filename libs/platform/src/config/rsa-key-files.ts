import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type RsaKeyKind = 'private' | 'public';

const WHAT: Record<RsaKeyKind, string> = {
  private: "the merchant's RSA private key (PEM PKCS#1 or PKCS#8, or its bare base64 DER body)",
  public: "Alipay's RSA public key (PEM, or its bare base64 DER body, as the merchant console shows it)",
};

function attempt(read: () => KeyObject): KeyObject | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function derOf(text: string): Buffer | undefined {
  const compact = text.replace(/\s+/g, '');
  return /^[A-Za-z0-9+/]+={0,2}$/.test(compact) ? Buffer.from(compact, 'base64') : undefined;
}

// The forms the signing code reads (PEM, or bare DER in base64), so that a file accepted here signs later.
function asPrivateKey(text: string): KeyObject | undefined {
  if (text.includes('-----BEGIN')) return attempt(() => createPrivateKey(text));
  const der = derOf(text);
  if (der === undefined) return undefined;
  return (
    attempt(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })) ??
    attempt(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs1' }))
  );
}

function asPublicKey(text: string): KeyObject | undefined {
  // createPublicKey derives the public half of a private key; a private key here is always a mix-up.
  if (text.includes('PRIVATE KEY') || asPrivateKey(text) !== undefined) return undefined;
  if (text.includes('-----BEGIN')) return attempt(() => createPublicKey(text));
  const der = derOf(text);
  if (der === undefined) return undefined;
  return (
    attempt(() => createPublicKey({ key: der, format: 'der', type: 'spki' })) ??
    attempt(() => createPublicKey({ key: der, format: 'der', type: 'pkcs1' }))
  );
}

function fault(text: string, kind: RsaKeyKind): string | undefined {
  const key = kind === 'private' ? asPrivateKey(text) : asPublicKey(text);
  if (key === undefined) {
    const other = kind === 'private' ? asPublicKey(text) : asPrivateKey(text);
    if (other !== undefined) return `the file holds a ${kind === 'private' ? 'public' : 'private'} key`;
    return 'the file holds no key that can be read';
  }
  if (key.asymmetricKeyType !== 'rsa') return `the file holds a ${key.asymmetricKeyType ?? 'non-RSA'} key`;
  return undefined;
}

/** Reads a key file and checks that it holds the kind of RSA key its variable names. */
export function readRsaKeyFile(
  variable: string,
  path: string,
  kind: RsaKeyKind,
  cwd: string,
): { text: string } | { problem: string } {
  const shown = `${variable}=${JSON.stringify(path)}`;
  let text: string;
  try {
    text = readFileSync(resolve(cwd, path), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? 'error'})`;
    return { problem: `${shown}: ${why}; it must hold ${WHAT[kind]}` };
  }
  const problem = fault(text, kind);
  return problem === undefined ? { text } : { problem: `${shown}: ${problem}; it must hold ${WHAT[kind]}` };
}
