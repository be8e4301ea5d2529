// The helper's RFC 6238 codes, checked against the RFC's own test vectors
// before any browser test relies on them.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Authenticator, base32Decode, hotp } from './helpers.js';

test('TOTP helper matches RFC 6238 appendix B (SHA-1, last six digits)', () => {
  const key = Buffer.from('12345678901234567890');
  for (const [t, code] of [[59, '287082'], [1111111109, '081804'], [1234567890, '005924'], [2000000000, '279037']]) {
    assert.equal(hotp(key, Math.floor(t / 30)), code, `t=${t}`);
  }
  // The same seed in base32, as an authenticator app would be given it.
  assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), key);
  const auth = new Authenticator('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  assert.equal(auth.codeAt(Math.floor(59 / 30)), '287082');
});

test('TOTP helper never hands out a step twice', async () => {
  const auth = new Authenticator('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  const a = await auth.take();
  const b = await auth.take();
  assert.ok(b.step > a.step);
  const now = Math.floor(Date.now() / 30_000);
  assert.ok(a.step >= now - 1 && b.step <= now + 1, 'within one step of now');
});
