/**
 * Per-member command cooldown: a member may run one command every `seconds`. In memory only;
 * a restart forgets it, which is harmless.
 */

/** Tracks when each member last ran a command. */
export class Cooldowns {
  readonly #milliseconds: number;
  readonly #lastRun = new Map<string, number>();

  /** `seconds` <= 0 disables the cooldown. */
  constructor(seconds: number) {
    this.#milliseconds = Math.max(0, seconds * 1000);
  }

  /**
   * Records a run at `now` and returns 0 when the member may run a command, else the
   * milliseconds left to wait (and records nothing). Amortised O(1).
   */
  take(userId: string, now: number): number {
    if (this.#milliseconds === 0) return 0;
    const last = this.#lastRun.get(userId);
    if (last !== undefined && now - last < this.#milliseconds) {
      return this.#milliseconds - (now - last);
    }
    if (this.#lastRun.size >= 10_000) this.#forgetExpired(now);
    this.#lastRun.set(userId, now);
    return 0;
  }

  #forgetExpired(now: number): void {
    for (const [userId, last] of this.#lastRun) {
      if (now - last >= this.#milliseconds) this.#lastRun.delete(userId);
    }
  }
}
