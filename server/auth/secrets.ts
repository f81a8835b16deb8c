import { createHash, randomBytes } from 'node:crypto';

/** API tokens start with this, so secret scanners and people recognise them. */
export const TOKEN_PREFIX = 'slm_';
const TOKEN_SHAPE = /^slm_[A-Za-z0-9_-]{43}$/;

/** 256 random bits: stored only as a SHA-256, which is enough for a secret nobody can guess. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function newToken(): string {
  return `${TOKEN_PREFIX}${newSecret()}`;
}

export function isTokenShaped(value: string): boolean {
  return TOKEN_SHAPE.test(value);
}

export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
