// The kiosk's outbox: every letter is first stored in IndexedDB (photos as Blobs) under its
// client_ref, then sent. A letter leaves the outbox only after the server answered 200 or 201;
// sending the same client_ref again is answered 200 with the same letter, so a retry after a
// lost answer never makes a duplicate.

import { ApiError, NetworkError, submitLetter } from "./api.js";

const DB_NAME = "letters-kiosk";
const STORE = "outbox";

let opening = null;

function database() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: "client_ref" });
        store.createIndex("created_at", "created_at");
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => db.close();
        resolve(db);
      };
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error("the kiosk database is blocked by another tab"));
    }).catch((error) => {
      opening = null;
      throw error;
    });
  }
  return opening;
}

async function transaction(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    // "strict": the letter is on disk before the visitor is told it is saved.
    const tx = db.transaction(STORE, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
    let result;
    const request = work(tx.objectStore(STORE));
    if (request) request.onsuccess = () => (result = request.result);
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
}

export const outbox = {
  put: (record) => transaction("readwrite", (store) => store.put(record)),
  get: (clientRef) => transaction("readonly", (store) => store.get(clientRef)),
  remove: (clientRef) => transaction("readwrite", (store) => store.delete(clientRef)),
  all: () => transaction("readonly", (store) => store.index("created_at").getAll()),
};

/** Answers worth retrying: no answer at all, 408, 429 and the server's own troubles (5xx). */
export function isTransient(error) {
  if (error instanceof NetworkError) return true;
  if (error instanceof ApiError) return error.status === 408 || error.status === 429 || error.status >= 500;
  return true; // unknown trouble (storage, a bug): keep the letter, try again later
}

/**
 * Sends waiting letters one at a time, oldest first. Retries on the `online` event and on a timer
 * with exponential backoff (or the server's Retry-After). Only one tab of the kiosk sends at a time.
 */
export class Syncer {
  constructor({ token, lang, onEvent, baseDelayMs = 2000, maxDelayMs = 30000 }) {
    Object.assign(this, { token, lang, onEvent, baseDelayMs, maxDelayMs });
    this.failures = 0;
    this.timer = null;
    this.running = null;
    this.again = false;
    this.authProblem = false;
    this.lastSuccess = null;
    this.nextAttemptAt = null;
  }

  start() {
    window.addEventListener("online", () => this.kick(0));
    this.kick(0);
  }

  kick(delayMs = 0) {
    clearTimeout(this.timer);
    this.nextAttemptAt = Date.now() + delayMs;
    this.timer = setTimeout(() => this.run(), delayMs);
  }

  run() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const locked = (work) =>
      navigator.locks ? navigator.locks.request("letters-kiosk-sync", { mode: "exclusive" }, work) : work();
    this.running = locked(() => this.sendWaiting())
      .catch((error) => {
        console.error("kiosk sync failed", error);
        this.kick(this.backoff());
      })
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick(0);
        }
      });
    return this.running;
  }

  backoff() {
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.max(0, this.failures - 1));
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  }

  async sendWaiting() {
    const token = this.token();
    if (!token) return;
    const waiting = (await outbox.all()).filter((record) => record.state === "waiting");
    for (const listed of waiting) {
      const record = await outbox.get(listed.client_ref);
      if (!record || record.state !== "waiting") continue; // sent or discarded meanwhile
      this.onEvent({ type: "sending", record });
      try {
        const answer = await submitLetter(record.letter, { pages: record.pages || [], token, lang: this.lang() });
        await outbox.remove(record.client_ref);
        this.failures = 0;
        this.authProblem = false;
        this.lastSuccess = new Date();
        this.onEvent({ type: "sent", record, created: answer.status === 201, answer: answer.data });
      } catch (error) {
        record.attempts = (record.attempts || 0) + 1;
        record.last_error = describe(error);
        record.last_attempt_at = Date.now();
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          // The kiosk's token, not the letter, is the trouble: keep every letter waiting for staff to fix it.
          this.authProblem = true;
          await outbox.put(record);
          this.onEvent({ type: "auth", record, error });
          this.failures += 1;
          this.kick(Math.max(this.backoff(), 15000));
          return;
        }
        if (!isTransient(error)) {
          // The server will never take this letter as it is: keep it, visible to staff, not silently dropped.
          record.state = "failed";
          record.failed_at = Date.now();
          await outbox.put(record);
          this.onEvent({ type: "failed", record, error });
          continue;
        }
        await outbox.put(record);
        this.failures += 1;
        const retryAfterMs = error instanceof ApiError && error.retryAfter != null ? error.retryAfter * 1000 : 0;
        const delay = Math.max(this.backoff(), retryAfterMs);
        this.onEvent({ type: "retry", record, error, delay });
        this.kick(delay);
        return;
      }
    }
  }
}

function describe(error) {
  if (error instanceof ApiError) return `${error.status} ${error.detail || ""}`.trim();
  if (error instanceof NetworkError) return "no connection";
  return String((error && error.message) || error);
}
