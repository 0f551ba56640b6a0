/**
 * What `/model` needs from the nightly retraining, whoever runs it. The bot works without one:
 * `/model retrain` then says retraining is not set up in this process.
 */

/** The outcome of the last finished retrain. */
export interface RetrainRun {
  startedAt: Date;
  finishedAt: Date;
  /** True when a new model was trained and swapped in. */
  ok: boolean;
  /** One line for members: figures on success, the reason on failure. */
  message: string;
  /** Who asked: `schedule` or a member's name. */
  requestedBy?: string;
}

/** The current state of retraining. */
export interface RetrainStatus {
  running: boolean;
  lastRun?: RetrainRun;
  nextRun?: Date;
  lastError?: string;
}

/** Starts and reports retraining. */
export interface RetrainControl {
  status(): RetrainStatus;
  /** Starts a retrain now unless one is running. */
  trigger(requestedBy: string): 'started' | 'already-running';
}
