/**
 * The rule that keeps secrets out of the audit trail. The trail is append-only and shipped off the station, so a
 * secret that got in could never be removed: the store refuses the event instead.
 *
 * A key is secret-like when its name contains (any case) "key", "secret", "token" or "password" — which covers
 * apiKey, sharedSecret, derivedKey, networkKey, mqttToken, token, key, secret, password and their snake_case
 * spellings — unless it ends with "Fp", "Fingerprint" or "Id" (or "_fp", "_fingerprint", "_id"), optionally
 * plural: fingerprints and ids are what we store instead (`derivedKeyFp`, `networkKeyId`, `apiKeyFingerprints`).
 * "PublicKey" is allowed too: X25519 public keys are identities QA needs (`devicePublicKey`), never secrets.
 * The rule errs on the side of refusing: a harmless `keySlot` is refused too and must be renamed (`slotNumber`),
 * because a false refusal shows up in the first test run while a leaked key would sit in every copy of the trail.
 */

const SECRET_WORD = /key|secret|token|password/i;
const ALLOWED_SUFFIX = /(?:Fp|Fingerprint|Id|PublicKey|_fp|_fingerprint|_id|_public_key)s?$/;

export function isSecretLikeKey(name: string): boolean {
  return SECRET_WORD.test(name) && !ALLOWED_SUFFIX.test(name);
}

/** Path (like `details.backend.apiKey` or `details.steps[2].token`) of the first secret-like key, or null. */
export function findSecretLikeKey(value: unknown, path = 'details'): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findSecretLikeKey(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const childPath = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      if (isSecretLikeKey(key)) return childPath;
      const found = findSecretLikeKey(child, childPath);
      if (found) return found;
    }
  }
  return null;
}

export function secretKeyRefusal(path: string): string {
  return (
    `audit event refused: ${path} is named like a secret; secrets are never stored in the audit trail ` +
    `(store a fingerprint as "...Fp" or an id as "...Id" instead)`
  );
}
