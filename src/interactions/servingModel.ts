/**
 * The model the bot serves, swappable without restart. Each command reads `current` once at its
 * start and keeps that reference, so a nightly retrain can `swap` between two interactions
 * without any command seeing half of one model and half of another.
 */
import type { Recommender } from '../model/recommender.ts';

/** Holds the serving `Recommender`. */
export class ServingModel {
  #current: Recommender;
  #swappedAt: Date;

  constructor(initial: Recommender, now: Date = new Date()) {
    this.#current = initial;
    this.#swappedAt = now;
  }

  /** The model to use for the interaction that is starting. */
  get current(): Recommender {
    return this.#current;
  }

  /** When the current model started serving. */
  get swappedAt(): Date {
    return this.#swappedAt;
  }

  /** Serves `next` from now on; returns the model it replaces. O(1). */
  swap(next: Recommender, now: Date = new Date()): Recommender {
    const previous = this.#current;
    this.#current = next;
    this.#swappedAt = now;
    return previous;
  }
}
