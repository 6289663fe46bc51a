// Where a phase's provider calls go, per Stack: the Heat requests the emulator saw on arrival and the
// stack's own status events, so a figure like "6 GETs per new Stack" can be split into lookups before
// the create, polls while the operation ran, and reads after it had finished (test/bench/notes.md).

import { stats } from './lib.ts';

type Mark = { what: string; t: number };
type Spread = ReturnType<typeof stats>;

export type TraceSummary = {
  stacks: number;
  getsPerStack: Spread;
  /** Mean GETs per Stack by when they arrived relative to its create operation. */
  getsBy: { beforeCreate: number; whileInProgress: number; afterComplete: number };
  /** CREATE IN_PROGRESS -> CREATE_COMPLETE as the emulator's engine ran it (the bench asks for 1.5 s). */
  operationMs: Spread;
  /** CREATE IN_PROGRESS -> the first GET after it. */
  firstPollMs: Spread;
  /** CREATE_COMPLETE -> the first GET that could see it. */
  completeToReadMs: Spread;
};

export class ProviderTrace {
  readonly #prefix: string;
  readonly #marks = new Map<string, Mark[]>();

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  note(name: string, what: string, t: number): void {
    if (!name.startsWith(this.#prefix)) return;
    let list = this.#marks.get(name);
    if (!list) this.#marks.set(name, (list = []));
    list.push({ what, t });
  }

  clear(): void {
    this.#marks.clear();
  }

  summary(): TraceSummary {
    const gets: number[] = [];
    const op: number[] = [];
    const firstPoll: number[] = [];
    const completeToRead: number[] = [];
    const by = { beforeCreate: 0, whileInProgress: 0, afterComplete: 0 };
    for (const marks of this.#marks.values()) {
      const started = marks.find((m) => m.what === 'CREATE_IN_PROGRESS')?.t;
      const done = marks.find((m) => m.what === 'CREATE_COMPLETE')?.t;
      const reads = marks.filter((m) => m.what === 'get').map((m) => m.t);
      gets.push(reads.length);
      for (const t of reads) {
        if (started === undefined || t < started) by.beforeCreate++;
        else if (done === undefined || t < done) by.whileInProgress++;
        else by.afterComplete++;
      }
      if (started !== undefined && done !== undefined) op.push(done - started);
      const poll = started === undefined ? undefined : reads.find((t) => t > started);
      if (started !== undefined && poll !== undefined) firstPoll.push(poll - started);
      const seen = done === undefined ? undefined : reads.find((t) => t > done);
      if (done !== undefined && seen !== undefined) completeToRead.push(seen - done);
    }
    const n = Math.max(1, this.#marks.size);
    const per = (x: number): number => Math.round((x / n) * 100) / 100;
    return {
      stacks: this.#marks.size,
      getsPerStack: stats(gets),
      getsBy: { beforeCreate: per(by.beforeCreate), whileInProgress: per(by.whileInProgress), afterComplete: per(by.afterComplete) },
      operationMs: stats(op),
      firstPollMs: stats(firstPoll),
      completeToReadMs: stats(completeToRead),
    };
  }
}
