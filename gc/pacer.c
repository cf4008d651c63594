/* gc/pacer.c: the GC pacer's arithmetic (goal, trigger, assist ratio,
 * cons/mark, workers), following Go's mgcpacer.go as of Go 1.21.
 *
 * The model (Go's pacer redesign, proposal 44167):
 *   1. A cycle marks M live bytes, of which Hs are scannable, and scans S
 *      stack and G global bytes. The next cycle's goal lets the heap grow by
 *      GOGC % of all that scan work: goal = M + (M + S + G) * GOGC/100.
 *   2. GOMEMLIMIT gives a second goal: what is left of the limit after
 *      everything that is not heap objects; the smaller goal wins.
 *   3. Marking runs at 25 % of the CPU. cons/mark, the allocation rate per
 *      mutator CPU-ns over the scan rate per GC CPU-ns, says how many bytes
 *      the mutators (75 % of the CPU) allocate while the GC (25 %) scans one
 *      byte, so the runway marking needs is cons/mark * 3 * (Hs + S + G) and
 *      the trigger is goal - runway, kept within [~0.7, ~0.95] of the way from
 *      M to the goal.
 *   4. While marking, assists make allocating threads scan in proportion to
 *      what they allocate, so the work finishes before the heap reaches the
 *      goal even if the estimate was wrong.
 *   5. At the end, the cycle's own cons/mark is measured and the estimate is
 *      the max of the last five measurements.
 * Integer arithmetic where Go uses integers (goal, bounds, headroom) and
 * doubles where Go uses float64 (runway, ratios), in the same order, so the
 * results agree with Go's to the byte.
 */
#include "gc/pacer.h"

#include "gc/fconv.h"

static int64_t u2i64(uint64_t x)
{
    return x > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x;
}

void hn_pacer_init(hn_pacer *p, int32_t gogc, int64_t memory_limit)
{
    *p = (hn_pacer){0};
    p->memory_limit = HN_PACER_NO_LIMIT;
    p->triggered = UINT64_MAX;
    hn_pacer_set_gogc(p, gogc);
    hn_pacer_set_memory_limit(p, memory_limit < 0 ? HN_PACER_NO_LIMIT : memory_limit);
    hn_pacer_commit(p, 0, true);
}

int32_t hn_pacer_set_gogc(hn_pacer *p, int32_t gogc)
{
    int32_t old = p->gc_percent;
    if (gogc < 0)
        gogc = HN_PACER_GOGC_OFF;
    p->gc_percent = gogc;
    /* Go computes defaultHeapMinimum * uint64(-1) / 100 for GOGC=off, a
     * meaningless number that never matters because the GOGC goal is then
     * "infinite"; 0 says the same thing plainly. */
    p->heap_minimum = gogc < 0 ? 0 : HN_PACER_HEAP_MINIMUM * (uint64_t)gogc / 100;
    return old;
}

int64_t hn_pacer_set_memory_limit(hn_pacer *p, int64_t limit)
{
    int64_t old = p->memory_limit;
    if (limit >= 0)
        p->memory_limit = limit;
    return old;
}

void hn_pacer_set_globals(hn_pacer *p, uint64_t globals_scan)
{
    p->globals_scan = globals_scan;
}

uint64_t hn_pacer_gogc_goal(uint64_t marked, uint64_t stacks, uint64_t globals,
                            int32_t gogc, uint64_t heap_minimum)
{
    if (gogc < 0)
        return UINT64_MAX;
    uint64_t work = marked + stacks + globals;
    uint64_t g = (uint64_t)gogc;
    uint64_t growth;
    /* Go multiplies first and would wrap on overflow; saturate instead. */
    if (g != 0 && work > UINT64_MAX / g)
        growth = work / 100 * g;
    else
        growth = work * g / 100;
    uint64_t goal = marked > UINT64_MAX - growth ? UINT64_MAX : marked + growth;
    if (goal < heap_minimum)
        goal = heap_minimum;
    return goal;
}

void hn_pacer_commit(hn_pacer *p, uint64_t heap_live, bool sweep_done)
{
    /* While sweeping, the sweeper needs some heap growth to work in before
     * the next trigger. */
    p->sweep_dist_min_trigger = sweep_done ? 0 : heap_live + HN_PACER_SWEEP_MIN_HEAP_DISTANCE;

    p->gc_percent_goal = hn_pacer_gogc_goal(p->heap_marked, p->last_stack_scan,
                                            p->globals_scan, p->gc_percent,
                                            p->heap_minimum);

    /* Bytes the mutators allocate while the GC scans Hs + S + G at a 25/75
     * split of the CPU. Same operation order as Go for identical rounding. */
    double scan = (double)(p->last_heap_scan + p->last_stack_scan + p->globals_scan);
    p->runway = hn_f2u64(p->cons_mark * (1 - HN_PACER_BG_UTILIZATION) /
                         HN_PACER_BG_UTILIZATION * scan);
}

uint64_t hn_pacer_memory_limit_goal(const hn_pacer *p, const hn_pacer_mem *mem)
{
    if (p->memory_limit == HN_PACER_NO_LIMIT)
        return UINT64_MAX;
    uint64_t limit = (uint64_t)p->memory_limit;
    uint64_t used = mem->heap_free + mem->heap_alloc;

    /* Term 1: memory that counts against the limit and is not, and cannot
     * become, heap objects. Free pages are excluded: they are where the heap
     * grows next. A caller whose stats disagree (free + alloc > mapped) gets
     * 0 rather than a wrapped subtraction. */
    uint64_t nonheap = mem->mapped_ready > used ? mem->mapped_ready - used : 0;
    /* Term 2: how far over the limit we already are, to claw it back. */
    uint64_t overage = mem->mapped_ready > limit ? mem->mapped_ready - limit : 0;

    if (nonheap + overage >= limit)
        return p->heap_marked; /* nothing left for the heap: collect constantly */

    uint64_t goal = limit - (nonheap + overage);
    /* Headroom: 3 % of the goal (divide first, as Go does), at least 1 MiB. */
    uint64_t headroom = goal / 100 * HN_PACER_LIMIT_HEADROOM_PERCENT;
    if (headroom < HN_PACER_LIMIT_MIN_HEADROOM)
        headroom = HN_PACER_LIMIT_MIN_HEADROOM;
    if (goal < headroom || goal - headroom < headroom)
        goal = headroom;
    else
        goal -= headroom;
    /* A goal below the live heap means nothing. */
    if (goal < p->heap_marked)
        goal = p->heap_marked;
    return goal;
}

/* Go's heapGoalInternal: the goal and the smallest trigger allowed for it. */
static uint64_t heap_goal_internal(const hn_pacer *p, const hn_pacer_mem *mem,
                                   uint64_t *min_trigger, bool *limited)
{
    uint64_t goal = p->gc_percent_goal;
    uint64_t limit_goal = hn_pacer_memory_limit_goal(p, mem);
    *min_trigger = 0;
    *limited = false;
    if (limit_goal < goal) {
        /* Memory-limited: no adjustment may push the goal back up. */
        *limited = true;
        return limit_goal;
    }
    uint64_t sweep = p->sweep_dist_min_trigger;
    if (sweep > goal)
        goal = sweep;
    *min_trigger = sweep;
    if (p->triggered != UINT64_MAX && goal < p->triggered + HN_PACER_MIN_RUNWAY)
        goal = p->triggered + HN_PACER_MIN_RUNWAY;
    return goal;
}

uint64_t hn_pacer_heap_goal(const hn_pacer *p, const hn_pacer_mem *mem)
{
    uint64_t min_trigger;
    bool limited;
    return heap_goal_internal(p, mem, &min_trigger, &limited);
}

hn_pacer_trigger_out hn_pacer_trigger(const hn_pacer *p, const hn_pacer_mem *mem)
{
    hn_pacer_trigger_out out = {0};
    uint64_t min_trigger;
    uint64_t goal = heap_goal_internal(p, mem, &min_trigger, &out.memory_limited);
    uint64_t m = p->heap_marked;

    out.goal = goal;
    if (goal == UINT64_MAX) {
        /* GOGC=off and no limit: no cycle ever starts on its own. */
        out.trigger = out.min_trigger = out.max_trigger = UINT64_MAX;
        return out;
    }
    if (m >= goal) {
        /* Defensive, as in Go: collect continuously at the goal. */
        out.trigger = out.min_trigger = out.max_trigger = goal;
        return out;
    }
    if (min_trigger < m)
        min_trigger = m;
    uint64_t step = (goal - m) / HN_PACER_TRIGGER_RATIO_DEN;
    uint64_t lower = step * HN_PACER_MIN_TRIGGER_RATIO_NUM + m;
    if (min_trigger < lower)
        min_trigger = lower;
    uint64_t max_trigger = step * HN_PACER_MAX_TRIGGER_RATIO_NUM + m;
    /* Large heaps: allow the trigger up to goal - 4 MiB (unscaled), the
     * runway a cycle with almost no work needs. */
    if (goal > HN_PACER_HEAP_MINIMUM && goal - HN_PACER_HEAP_MINIMUM > max_trigger)
        max_trigger = goal - HN_PACER_HEAP_MINIMUM;
    if (max_trigger < min_trigger)
        max_trigger = min_trigger;

    uint64_t trigger = p->runway > goal ? min_trigger : goal - p->runway;
    if (trigger < min_trigger)
        trigger = min_trigger;
    if (trigger > max_trigger)
        trigger = max_trigger;
    out.trigger = trigger;
    out.min_trigger = min_trigger;
    out.max_trigger = max_trigger;
    return out;
}

bool hn_pacer_should_start(const hn_pacer *p, const hn_pacer_mem *mem,
                           uint64_t heap_live)
{
    if (p->marking)
        return false;
    hn_pacer_trigger_out t = hn_pacer_trigger(p, mem);
    return t.goal != UINT64_MAX && heap_live >= t.trigger;
}

bool hn_pacer_periodic_due(const hn_pacer *p, int64_t now_ns, int64_t last_gc_ns)
{
    if (p->marking || p->gc_percent < 0)
        return false;
    return last_gc_ns != 0 && now_ns - last_gc_ns > HN_PACER_FORCE_PERIOD_NS;
}

double hn_pacer_sweep_pages_per_byte(uint64_t trigger, uint64_t heap_live,
                                     uint64_t pages_in_use, uint64_t pages_swept,
                                     uint64_t page_size, bool sweep_done)
{
    if (sweep_done || pages_in_use <= pages_swept)
        return 0;
    /* A margin, so rounding and concurrent sweeping do not leave pages
     * unswept at the trigger; never less than a page, so the ratio stays
     * finite when the trigger is already close. */
    int64_t distance = u2i64(trigger) - u2i64(heap_live) - (int64_t)HN_PACER_SWEEP_MIN_HEAP_DISTANCE;
    if (distance < u2i64(page_size))
        distance = u2i64(page_size);
    if (distance <= 0)
        distance = 1;
    return (double)(pages_in_use - pages_swept) / (double)distance;
}

int64_t hn_pacer_sweep_debt(double pages_per_byte, uint64_t heap_live,
                            uint64_t heap_live_basis, uint64_t span_bytes,
                            uint64_t pages_swept_since_basis, uint64_t caller_pages)
{
    if (pages_per_byte <= 0)
        return 0;
    uint64_t allocated = span_bytes;
    if (heap_live > heap_live_basis)
        allocated += heap_live - heap_live_basis;
    int64_t target = hn_f2i64(pages_per_byte * (double)allocated) - u2i64(caller_pages);
    int64_t owed = target - u2i64(pages_swept_since_basis);
    return owed > 0 ? owed : 0;
}

hn_pacer_workers hn_pacer_worker_plan(int32_t procs)
{
    hn_pacer_workers w = {0};
    if (procs < 1)
        procs = 1;
    double total = (double)procs * HN_PACER_BG_UTILIZATION;
    int64_t dedicated = (int64_t)(total + 0.5);
    double err = (double)dedicated / total - 1;
    if (err < -HN_PACER_MAX_UTIL_ERROR || err > HN_PACER_MAX_UTIL_ERROR) {
        /* Rounding is more than 30 % off (procs <= 3 or procs == 6 at 25 %):
         * fractional workers make up the rest. */
        if ((double)dedicated > total)
            dedicated--;
        w.fractional = (total - (double)dedicated) / (double)procs;
    }
    w.dedicated = (int32_t)dedicated;
    return w;
}

hn_pacer_workers hn_pacer_start_cycle(hn_pacer *p, int64_t mark_start_ns,
                                      int32_t procs,
                                      const hn_pacer_revise_in *in)
{
    p->marking = true;
    p->mark_start_ns = mark_start_ns;
    p->triggered = in->heap_live;
    hn_pacer_workers w = hn_pacer_worker_plan(procs);
    p->dedicated_workers = w.dedicated;
    p->fractional_goal = w.fractional;
    hn_pacer_revise(p, in);
    return w;
}

hn_pacer_revise_out hn_pacer_revise(hn_pacer *p, const hn_pacer_revise_in *in)
{
    hn_pacer_revise_out out = {0};
    int32_t gc_percent = p->gc_percent < 0 ? HN_PACER_OFF_REVISE_GOGC : p->gc_percent;
    int64_t live = u2i64(in->heap_live);
    int64_t work = in->scan_work_done;
    int64_t triggered = p->triggered == UINT64_MAX ? live : u2i64(p->triggered);

    /* Assume the heap is in a steady state: finish at the goal. */
    int64_t heap_goal = u2i64(hn_pacer_heap_goal(p, &in->mem));

    /* Expected work: what the last cycle scanned, plus globals. Worst case:
     * every scannable byte live and every allocated stack byte scanned. */
    int64_t expected = u2i64(p->last_heap_scan + p->last_stack_scan + p->globals_scan);
    int64_t max_work = u2i64(in->heap_scan + in->max_stack_scan + p->globals_scan);

    if (work > expected) {
        /* More work than expected: the heap is growing. Stretch the runway
         * we planned for `expected` over the worst case, so assists stay
         * flat, but never past (1 + GOGC/100) * goal. */
        int64_t hard = hn_f2i64((1.0 + (double)gc_percent / 100.0) * (double)heap_goal);
        int64_t ext = hard;
        if (expected > 0) {
            /* Saturated, where Go's int64 would wrap: with GOGC=off the goal is
             * near INT64_MAX and the stretched runway overflows. */
            int64_t runway = hn_f2i64((double)(heap_goal - triggered) / (double)expected *
                                      (double)max_work);
            ext = runway > INT64_MAX - triggered ? INT64_MAX : runway + triggered;
        }
        expected = max_work;
        if (ext > hard)
            ext = hard;
        heap_goal = ext;
    }
    if (live > heap_goal) {
        /* Past even that goal: leave 10 % more runway and plan for the worst. */
        heap_goal = hn_f2i64((double)heap_goal * HN_PACER_MAX_OVERSHOOT);
        expected = max_work;
        out.hard_goal = true;
    }

    int64_t remaining = expected - work;
    if (remaining < HN_PACER_MIN_SCAN_WORK_REMAINING)
        remaining = HN_PACER_MIN_SCAN_WORK_REMAINING;
    int64_t heap_remaining = heap_goal - live;
    if (heap_remaining <= 0)
        heap_remaining = 1;

    p->assist_work_per_byte = (double)remaining / (double)heap_remaining;
    p->assist_bytes_per_work = (double)heap_remaining / (double)remaining;

    out.heap_goal = heap_goal;
    out.scan_work_expected = expected;
    out.scan_work_remaining = remaining;
    out.heap_remaining = heap_remaining;
    return out;
}

int64_t hn_pacer_assist_work_for(const hn_pacer *p, int64_t bytes)
{
    return hn_f2i64(p->assist_work_per_byte * (double)bytes);
}

int64_t hn_pacer_assist_credit(const hn_pacer *p, int64_t work)
{
    return 1 + hn_f2i64(p->assist_bytes_per_work * (double)work);
}

hn_pacer_assist hn_pacer_assist_plan(const hn_pacer *p, int64_t debt_bytes,
                                     int64_t bg_credit, bool limiting)
{
    hn_pacer_assist a = {0};
    if (limiting || debt_bytes <= 0) {
        /* The CPU limiter is on: drop the assist to cap GC CPU. */
        a.skipped = limiting;
        return a;
    }
    int64_t work = hn_pacer_assist_work_for(p, debt_bytes);
    int64_t paid = debt_bytes;
    if (work < HN_PACER_OVER_ASSIST_WORK) {
        /* Small debt: do a whole 64 KiB chunk and bank the extra credit. */
        work = HN_PACER_OVER_ASSIST_WORK;
        paid = hn_f2i64(p->assist_bytes_per_work * (double)work);
    }
    a.owed_work = work;
    a.paid_bytes = paid;
    if (bg_credit > 0) {
        if (bg_credit < work) {
            a.stolen = bg_credit;
            a.stolen_bytes = 1 + hn_f2i64(p->assist_bytes_per_work * (double)bg_credit);
        } else {
            a.stolen = work;
            a.stolen_bytes = paid;
        }
    }
    a.scan_work = work - a.stolen;
    return a;
}

double hn_pacer_end_cycle(hn_pacer *p, const hn_pacer_measurements *m)
{
    double measured = 0;

    /* Record the goal being retired, for the scavenger. */
    p->last_heap_goal = hn_pacer_heap_goal(p, &m->mem);

    int64_t duration = m->now_ns - p->mark_start_ns;
    int32_t procs = m->procs < 1 ? 1 : m->procs;
    double cpu = (double)duration * (double)procs;
    /* Background marking is assumed to have hit its 25 %. */
    double util = HN_PACER_BG_UTILIZATION;
    double idle_util = 0;
    if (duration > 0) {
        util += (double)m->assist_time_ns / cpu;
        idle_util = (double)m->idle_mark_time_ns / cpu;
    }
    int64_t scan_work = m->heap_scan_work + m->stack_scan_work + m->globals_scan_work;

    /* Nothing allocated while marking (Go: return without an update), no scan
     * work or no mutator time (Go would divide by zero): no measurement. */
    if (p->triggered != UINT64_MAX && m->heap_live > p->triggered &&
        scan_work > 0 && util < 1) {
        /* Bytes allocated per mutator CPU over bytes scanned per GC CPU; the
         * wall time and procs cancel out. Idle marking counts for the GC. */
        measured = ((double)(m->heap_live - p->triggered) * (util + idle_util)) /
                   ((double)scan_work * (1 - util));
        double est = measured;
        for (int i = 0; i < HN_PACER_CONS_MARK_HISTORY; i++)
            if (p->last_cons_mark[i] > est)
                est = p->last_cons_mark[i];
        p->cons_mark = est;
        p->last_cons_mark[p->cons_mark_next] = measured;
        p->cons_mark_next = (p->cons_mark_next + 1) % HN_PACER_CONS_MARK_HISTORY;
    }

    /* resetLive: this cycle's findings become the next cycle's inputs. */
    p->heap_marked = m->heap_marked;
    p->last_heap_scan = m->heap_scan_work > 0 ? (uint64_t)m->heap_scan_work : 0;
    p->last_stack_scan = m->stack_scan_work > 0 ? (uint64_t)m->stack_scan_work : 0;
    p->triggered = UINT64_MAX;
    p->marking = false;
    p->assist_work_per_byte = 0;
    p->assist_bytes_per_work = 0;
    p->cycles++;

    hn_pacer_commit(p, m->heap_marked, m->sweep_done);
    return measured;
}
