import { BatchCostModel } from './batch-cost-model.js';

export interface TunerOptions {
  /** The model's max_batch_size: the largest cap considered. */
  max: number;
  /**
   * Latency objective in ms: caps whose batch would keep a request longer than this are not
   * used. A request can wait for the batch on the device and then run in its own, so a cap is
   * allowed while twice its batch time fits. Absent: maximise throughput.
   */
  objectiveMs?: number;
  /** Busy batches at a settled cap before a neighbouring cap is tried, at first and after a move that paid (3). */
  exploreEvery?: number;
  /** The wait between tries doubles while tries do not pay, up to this (512 busy batches). */
  maxExploreEvery?: number;
  /** Busy batches measured at a tried cap (3), and at least `measureMs` of device time. */
  probeBatches?: number;
  /**
   * Device time each side of a comparison must cover (100 ms): sub-millisecond batches are
   * noisy one by one, so a try of a fast model spans many of them.
   */
  measureMs?: number;
  /** How much more items/s another cap must measure to replace the current one (0.05: 5 %). */
  tolerance?: number;
  /** Weight of the newest batch in each cap's running averages (0.3). */
  alpha?: number;
  /** Measurements older than this many batches do not decide anything (400). */
  staleAfter?: number;
}

/** Batches measured back to back at one operating point. */
interface Window {
  runs: { items: number; ms: number }[];
  items: number;
  ms: number;
  /**
   * The first batch after a change is not counted: its cost includes the work the previous
   * batch left behind (its replies), which belongs to the previous operating point.
   */
  skip: boolean;
}

const emptyWindow = (): Window => ({ runs: [], items: 0, ms: 0, skip: true });

/**
 * The load of a batch that was planned as `planned` and ran `runMs` in a cycle of `cycleMs`. A
 * device that ran for less than half the cycle was waiting on the rest of the worker (per-job
 * work, the queue): unless the cap held the batch back, the cap is not what limits throughput,
 * so the batch counts as light and leaves the cap alone. A full batch still counts: more was
 * waiting than the cap let in, and a cap of a few items multiplies the worker's work per item (on
 * a model whose run is short beside that work every batch looks idle, and a cap that once fell
 * to 1 was never tried higher again).
 */
export function observedLoad(planned: BatchLoad, runMs: number, cycleMs: number): BatchLoad {
  return planned !== 'full' && runMs < 0.5 * cycleMs ? 'light' : planned;
}

/** Weight of each batch in the share of light batches (about the last 20 batches count). */
const LIGHT_SHARE_ALPHA = 0.05;
/** Above this share of light batches the tuner does not measure caps. */
const MAX_LIGHT_SHARE = 0.5;

interface CapStats {
  /** Cycle time per item: what bounds items per second. */
  msPerItem: number;
  /** Run time per item: how long a batch holds the device, what the latency objective bounds. */
  runMsPerItem: number;
  /** Batch counter when it was last updated. */
  lastBatch: number;
}

/** Why the tuner moved the cap. */
export type TunerMove = 'probe' | 'settle' | 'objective';

/**
 * What a batch says about the cap. `full`: it held as many items as the cap allowed, so a larger
 * cap might have done better. `backlog`: smaller than the cap, but formed from items that waited
 * while the device was busy, so the device is saturated and a smaller cap would still keep it
 * busy. `light`: the device had been idle; the load, not the cap, set its size.
 */
export type BatchLoad = 'full' | 'backlog' | 'light';

/**
 * Picks the batch cap that gives the most items per second, measured, among powers of two up to
 * `max` (and `max` itself), within an optional latency objective.
 *
 * Bigger is not always faster: on a GPU a batch of 64 costs little more than a batch of 1, but on
 * a CPU whose caches overflow the per-item cost can rise with the batch. So the tuner measures
 * rather than assumes: every batch updates the running ms-per-item of its size class (sizes in
 * (c/2, c] count for cap c), and while the device is saturated it occasionally tries a
 * neighbouring cap (half or double, alternating, as Clipper's AIMD probes) for a few batches.
 * Afterwards it settles on the tried cap if that measured more items/s than the current one by
 * `tolerance`, and tries again sooner; otherwise it goes back and waits twice as long before the
 * next try. Only full batches justify trying a larger cap; batches of a saturated device that
 * the cap did not limit justify trying a smaller one; light batches never move the cap.
 */
export class ThroughputTuner {
  readonly candidates: number[];
  readonly cost = new BatchCostModel();
  private readonly opts: Required<Omit<TunerOptions, 'objectiveMs'>> & { objectiveMs: number | undefined };
  private target: number;
  private probe: { cap: number; home: number; homeRate: number; window: Window } | undefined;
  /** The most recent busy batches at the settled cap: what a try is compared with. */
  private homeWindow = emptyWindow();
  /** Direction of the last move that paid (0: none yet). */
  private lastMove: -1 | 0 | 1 = 0;
  /** A cap that won its last try: it must win the next one too before the cap moves there. */
  private pending: number | undefined;
  /** Busy batches, and their device time, at the settled cap since the last try or move. */
  private steady = 0;
  private steadyMs = 0;
  private exploreEvery: number;
  private direction: 1 | -1 = -1;
  private batches = 0;
  private lastLimit = Infinity;
  private readonly stats = new Map<number, CapStats>();
  /** Decayed share of recent batches that were light (see observe); undecided at first. */
  private lightShare = MAX_LIGHT_SHARE;

  constructor(options: TunerOptions) {
    const max = Math.max(1, Math.floor(options.max));
    this.opts = {
      max,
      objectiveMs: options.objectiveMs !== undefined && options.objectiveMs > 0 ? options.objectiveMs : undefined,
      exploreEvery: Math.max(1, Math.floor(options.exploreEvery ?? 3)),
      maxExploreEvery: Math.max(1, Math.floor(options.maxExploreEvery ?? 512)),
      probeBatches: Math.max(1, Math.floor(options.probeBatches ?? 3)),
      measureMs: Math.max(0, options.measureMs ?? 100),
      tolerance: Math.max(0, options.tolerance ?? 0.05),
      alpha: Math.min(1, Math.max(0.01, options.alpha ?? 0.3)),
      staleAfter: Math.max(1, Math.floor(options.staleAfter ?? 400)),
    };
    const caps: number[] = [];
    for (let c = 1; c < max; c *= 2) caps.push(c);
    caps.push(max);
    this.candidates = caps;
    // Start where the fixed cap was: the largest batch. Measurements move it from there.
    this.target = max;
    this.exploreEvery = this.opts.exploreEvery;
  }

  /** The cap the tuner wants now (a probe's cap while one runs). */
  get value(): number {
    return this.probe?.cap ?? this.target;
  }

  get probing(): boolean {
    return this.probe !== undefined;
  }

  /** The settled cap (what a probe returns to). */
  get settled(): number {
    return this.target;
  }

  /** Measured items per second of a cap's size class, if measured recently. */
  itemsPerSecond(cap: number): number | undefined {
    const s = this.fresh(cap);
    return s ? 1000 / Math.max(1e-6, s.msPerItem) : undefined;
  }

  /**
   * Records one successful batch of `size` items whose cycle took `ms` milliseconds (what the
   * items per second are measured on), under `load` (see BatchLoad). `runMs`: how long the run
   * itself held the device (`ms` when not given), what the latency objective is judged on: the
   * rest of a cycle is the worker's own work between runs, which grows with the machine's load
   * but not with the batch, and scaled up with the batch it would cap a busy worker's batches
   * at one item, where its throughput is least. `limit`: the largest cap the memory side allows
   * now. Returns why the cap moved, or undefined when it did not.
   */
  observe(size: number, ms: number, load: BatchLoad, limit: number, runMs = ms): TunerMove | undefined {
    this.batches++;
    this.cost.observe(size, runMs);
    this.record(this.classOf(size), size, ms, runMs);
    if (limit !== this.lastLimit) {
      // Memory moved the cap: what ran at the old cap says little about the new one. A try in
      // progress goes on (it compares with the cap as it was) unless memory no longer allows it.
      this.lastLimit = limit;
      this.resetSteady();
      this.homeWindow = emptyWindow();
      if (this.probe && this.probe.cap > limit) this.probe = undefined;
    }
    // While most batches are light, the device is not what limits throughput (the load, or the
    // rest of the worker, sets the pace), and the few batches that are not light are mostly
    // ones slowed down by something else (another process took the core mid-run): measuring
    // caps on them would follow noise. The cap then stays where it is.
    this.lightShare += LIGHT_SHARE_ALPHA * ((load === 'light' ? 1 : 0) - this.lightShare);
    if (this.lightShare > MAX_LIGHT_SHARE && this.probe) {
      // A try in progress is called off: back to the settled cap, and the next try waits.
      this.probe = undefined;
      this.resetSteady();
      this.homeWindow = emptyWindow();
      return 'probe';
    }
    if (load === 'light' || this.lightShare > MAX_LIGHT_SHARE) return undefined;
    if (this.probe) {
      const w = this.probe.window;
      this.add(w, size, ms, Infinity);
      if (w.runs.length < this.opts.probeBatches || w.ms < this.opts.measureMs) return undefined;
      return this.finishProbe(limit);
    }
    if (this.opts.objectiveMs !== undefined && !this.admissible(Math.min(this.target, limit))) {
      const fallback = this.largestAdmissible(Math.min(limit, this.target) - 1);
      if (fallback < this.target) {
        this.target = fallback;
        this.resetSteady();
        this.homeWindow = emptyWindow();
        return 'objective';
      }
    }
    this.add(this.homeWindow, size, ms, this.opts.probeBatches);
    this.steady++;
    this.steadyMs += ms;
    // The wait counts batches and device time: a try of a fast model spans many batches
    // (measureMs), and must stay a small share of the time however short its batches are.
    if (this.steady < this.exploreEvery || this.steadyMs < this.exploreEvery * this.opts.measureMs) return undefined;
    if (this.homeWindow.ms < this.opts.measureMs) return undefined;
    // The size class batches run in now: the cap's, or a smaller one when the load (backlog)
    // or memory holds batches below the target.
    const home = this.classOf(load === 'full' ? Math.min(this.target, limit) : Math.min(this.target, limit, size));
    return this.startProbe(home, load === 'full', limit);
  }

  private startProbe(home: number, upward: boolean, limit: number): TunerMove | undefined {
    this.resetSteady();
    const i = this.candidates.indexOf(home);
    const order = this.direction === -1 ? [i - 1, i + 1] : [i + 1, i - 1];
    this.direction = this.direction === -1 ? 1 : -1;
    for (const j of order) {
      const cap = this.candidates[j];
      if (cap === undefined || cap > limit || (cap > home && !upward) || !this.admissible(cap)) continue;
      const w = this.homeWindow;
      this.probe = { cap, home, homeRate: w.ms > 0 ? w.items / w.ms : 0, window: emptyWindow() };
      return 'probe';
    }
    return undefined;
  }

  private finishProbe(limit: number): TunerMove {
    const { home, cap: tried, homeRate, window } = this.probe!;
    this.probe = undefined;
    this.resetSteady();
    // Only the two operating points just measured back to back are compared: older figures of
    // other caps were taken under other conditions (other models, a busier machine).
    const triedRate = tried <= limit && this.admissible(tried) && window.ms > 0 ? window.items / window.ms : 0;
    this.homeWindow = emptyWindow();
    if (homeRate > 0 && triedRate > homeRate * (1 + this.opts.tolerance)) {
      const move = tried < home ? -1 : 1;
      // A win must be confirmed by a second try: on a busy machine (other processes on the
      // same cores) one lucky window would otherwise walk the cap away from the best one, one
      // step at a time (an overhead-bound model down to tiny batches). The next try comes soon,
      // and goes the same way first. One exception: a large win (3 x tolerance) downwards moves
      // at once, so that a model far below its start (PP-OCR on a CPU, which starts at its
      // max_batch_size) gets there in a few tries. Upwards even a large win waits for its
      // second try: there a lucky window costs the most (on a CPU model whose sizes measure
      // within noise of each other, such moves took PP-OCR from batches of 2 to 32, seconds
      // per batch), and nothing starts below its best size.
      const large = triedRate > homeRate * (1 + 3 * this.opts.tolerance);
      if ((!large || move > 0) && this.pending !== tried) {
        this.pending = tried;
        this.direction = move;
        this.exploreEvery = this.opts.exploreEvery;
        return 'probe';
      }
      this.pending = undefined;
      // It paid: keep moving that way, soon. Going back the way the last move came means the
      // two are within noise of each other, so the next try waits longer instead.
      this.exploreEvery =
        this.lastMove !== 0 && move !== this.lastMove
          ? Math.min(this.opts.maxExploreEvery, this.exploreEvery * 2)
          : this.opts.exploreEvery;
      this.direction = move;
      this.lastMove = move;
      this.target = tried;
      return 'settle';
    }
    this.pending = undefined;
    this.exploreEvery = Math.min(this.opts.maxExploreEvery, this.exploreEvery * 2);
    return 'probe';
  }

  /** Whether twice the predicted batch time of `cap` fits the objective (always, without one). */
  admissible(cap: number): boolean {
    if (this.opts.objectiveMs === undefined) return true;
    const ms = this.batchMs(cap);
    // Unknown sizes above what was measured are not tried blind.
    if (ms === undefined) return cap <= this.target;
    return 2 * ms <= this.opts.objectiveMs;
  }

  /** Expected run time of a batch at a cap: measured when recent, otherwise the linear fit. */
  batchMs(cap: number): number | undefined {
    const s = this.fresh(cap);
    const predicted = this.cost.predict(cap);
    if (s) return Math.max(s.runMsPerItem * cap, predicted ?? 0);
    return predicted;
  }

  private largestAdmissible(upTo: number): number {
    let best = this.candidates[0]!;
    for (const cap of this.candidates) if (cap <= upTo && this.admissible(cap)) best = cap;
    return best;
  }

  private resetSteady(): void {
    this.steady = 0;
    this.steadyMs = 0;
  }

  /** Adds a batch to a window, keeping only the latest `keep`+ batches that cover measureMs. */
  private add(w: Window, items: number, ms: number, keep: number): void {
    if (w.skip) {
      w.skip = false;
      return;
    }
    w.runs.push({ items, ms });
    w.items += items;
    w.ms += ms;
    while (w.runs.length > keep && w.ms - w.runs[0]!.ms >= this.opts.measureMs) {
      const old = w.runs.shift()!;
      w.items -= old.items;
      w.ms -= old.ms;
    }
  }

  private classOf(size: number): number {
    return this.candidates.find((c) => c >= size) ?? this.opts.max;
  }

  private record(cap: number, size: number, ms: number, runMs: number): void {
    const a = this.opts.alpha;
    const s = this.stats.get(cap);
    const perItem = ms / size;
    const runPerItem = runMs / size;
    if (!s || this.batches - s.lastBatch > this.opts.staleAfter) {
      this.stats.set(cap, { msPerItem: perItem, runMsPerItem: runPerItem, lastBatch: this.batches });
      return;
    }
    s.msPerItem = a * perItem + (1 - a) * s.msPerItem;
    s.runMsPerItem = a * runPerItem + (1 - a) * s.runMsPerItem;
    s.lastBatch = this.batches;
  }

  private fresh(cap: number): CapStats | undefined {
    const s = this.stats.get(cap);
    return s && this.batches - s.lastBatch <= this.opts.staleAfter ? s : undefined;
  }
}
