// The staff panel's PIN, chosen by the volunteer who pairs the kiosk. It never leaves the device and is
// never stored as typed: localStorage keeps a random salt and the PIN's PBKDF2-SHA-256 hash (WebCrypto).
// Wrong PINs are throttled here, on the device: three tries are free, then each wrong one makes the next
// wait longer (30 s, 1 min, 2 min … at most 15 min), and the wait survives a reload.

const KEY = { pin: "kiosk.staffPin", failures: "kiosk.staffPinFailures" };
export const PIN_PATTERN = /^[0-9]{4,8}$/;
// A 4–8 digit PIN is guessed in at most 10^8 tries offline whatever the hash; the iterations only make
// reading it from a stolen tablet's storage slower, while one check stays well under a second there.
const ITERATIONS = 150000;
const FREE_TRIES = 3;
const FIRST_WAIT_MS = 30 * 1000;
const LONGEST_WAIT_MS = 15 * 60 * 1000;

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "null");
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage unavailable */
  }
}

const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

/** WebCrypto exists only in a secure context (HTTPS, or localhost): without it no PIN can be kept safely. */
export function pinSupported() {
  return Boolean(globalThis.crypto && crypto.subtle && crypto.getRandomValues);
}

async function derive(pin, salt, iterations) {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(pin), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

function same(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= a[i] ^ b[i];
  return difference === 0;
}

export function hasPin() {
  const kept = read(KEY.pin);
  return Boolean(kept && kept.salt && kept.hash && kept.iterations);
}

/** Keep a newly chosen PIN (as its salted hash); the count of wrong tries starts again. */
export async function choosePin(pin) {
  if (!PIN_PATTERN.test(pin)) throw new Error("a PIN is 4 to 8 digits");
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(pin, salt, ITERATIONS);
  write(KEY.pin, { salt: toBase64(salt), iterations: ITERATIONS, hash: toBase64(hash) });
  write(KEY.failures, null);
}

export function forgetPin() {
  write(KEY.pin, null);
  write(KEY.failures, null);
}

/** How long until the next try is allowed, in ms; 0 if now. */
export function pinWaitMs(now = Date.now()) {
  const failures = read(KEY.failures);
  return failures && failures.until ? Math.max(0, failures.until - now) : 0;
}

/** "ok", "wrong", or "wait" (a wait is running: the PIN was not even checked). */
export async function checkPin(pin) {
  if (pinWaitMs() > 0) return "wait";
  const kept = read(KEY.pin);
  if (!kept) return "wrong";
  const hash = await derive(String(pin), fromBase64(kept.salt), kept.iterations);
  if (same(hash, fromBase64(kept.hash))) {
    write(KEY.failures, null);
    return "ok";
  }
  const count = ((read(KEY.failures) || {}).count || 0) + 1;
  const over = count - FREE_TRIES;
  const until = over >= 0 ? Date.now() + Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** over) : 0;
  write(KEY.failures, { count, until });
  return "wrong";
}
