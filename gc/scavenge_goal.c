/* gc/scavenge_goal.c: the scavenger's goals and pace (see scavenge_goal.h),
 * after Go's mgcscavenge.go (gcPaceScavenger) and mheap.go (allocSpan).
 */
#include "gc/scavenge_goal.h"

#include "gc/fconv.h"

hn_scavenge_goals hn_scavenge_goals_compute(const hn_scavenge_goal_in *in)
{
    hn_scavenge_goals g = {HN_SCAVENGE_NONE, HN_SCAVENGE_NONE};
    uint64_t page = in->phys_page_size ? in->phys_page_size : 4096;

    /* Memory-limit goal: 95 % of the limit. (Go 1.19-1.21 multiply by 95
     * instead of 0.95, which switches this goal off; later releases compute
     * the intended 95 %, which is what this follows.) */
    if (in->memory_limit >= 0) {
        uint64_t goal = hn_f2u64((double)in->memory_limit *
                                 (1.0 - HN_SCAVENGE_REDUCE_EXTRA_PERCENT / 100.0));
        if (in->mapped_ready > goal)
            g.memory_limit_goal = goal;
    }

    /* GOGC goal: nothing is known before the first cycle has ended. */
    if (in->last_heap_goal == 0)
        return g;
    double ratio = (double)in->heap_goal / (double)in->last_heap_goal;
    uint64_t goal = hn_f2u64((double)in->last_heap_in_use * ratio);
    /* + 10 %, as an integer division (Go: goal / (1 / (10 / 100.0))). */
    uint64_t extra = goal / (100 / HN_SCAVENGE_RETAIN_EXTRA_PERCENT);
    goal = goal > UINT64_MAX - extra ? UINT64_MAX : goal + extra;
    /* Round up to a physical page. */
    if (goal <= UINT64_MAX - (page - 1))
        goal = (goal + page - 1) & ~(page - 1);
    else
        goal = UINT64_MAX;
    /* Met already, or within a page of it: nothing to do. */
    if (in->heap_retained > goal && in->heap_retained - goal >= page)
        g.gc_percent_goal = goal;
    return g;
}

uint64_t hn_scavenge_background_remaining(const hn_scavenge_goals *g,
                                          uint64_t heap_retained, uint64_t mapped_ready)
{
    uint64_t a = heap_retained > g->gc_percent_goal ? heap_retained - g->gc_percent_goal : 0;
    uint64_t b = mapped_ready > g->memory_limit_goal ? mapped_ready - g->memory_limit_goal : 0;
    return a > b ? a : b;
}

hn_scavenge_sync hn_scavenge_sync_amount(const hn_scavenge_sync_in *in)
{
    hn_scavenge_sync s = {0, false};
    /* Over the limit once the released pages come back: give back the
     * difference now, whatever the density policy says. Not while the CPU
     * limiter is on: the GC is already taking all the CPU it may. */
    if (!in->limiting && in->memory_limit >= 0) {
        uint64_t limit = (uint64_t)in->memory_limit;
        uint64_t after = in->scav_bytes + in->mapped_ready;
        if (after > limit) {
            s.bytes = after - limit;
            s.force = true;
        }
    }
    /* The heap grew: release what fragmentation kept from being reused, up to
     * the growth, down to the GOGC goal. */
    if (in->gc_percent_goal != HN_SCAVENGE_NONE && in->growth > 0 &&
        in->heap_retained + in->growth > in->gc_percent_goal) {
        uint64_t release = in->growth;
        uint64_t over = in->heap_retained + in->growth - in->gc_percent_goal;
        if (release > over)
            release = over;
        if (release > s.bytes)
            s.bytes = release;
    }
    return s;
}

int64_t hn_scavenge_sleep_ns(int64_t worked_ns, int32_t procs)
{
    if (procs < 1)
        procs = 1;
    if (worked_ns < HN_SCAVENGE_MIN_WORK_NS)
        worked_ns = HN_SCAVENGE_MIN_WORK_NS;
    double share = HN_SCAVENGE_PERCENT / 100.0 * (double)procs;
    if (share >= 1)
        return 0; /* 1 % of 100+ processors is more than one thread can use */
    double total = (double)worked_ns / share;
    return (int64_t)(total - (double)worked_ns);
}

int64_t hn_scavenge_cpu_budget_ns(int64_t wall_ns, int32_t procs)
{
    if (wall_ns <= 0)
        return 0;
    if (procs < 1)
        procs = 1;
    double budget = (double)wall_ns * (double)procs * (HN_SCAVENGE_PERCENT / 100.0);
    /* One scavenger thread: never more than the wall time itself. */
    if (budget > (double)wall_ns)
        budget = (double)wall_ns;
    return (int64_t)budget;
}

uint64_t hn_scavenge_rate_bytes(int64_t wall_ns, int32_t procs, int64_t ns_per_page,
                                uint64_t phys_page_size)
{
    if (ns_per_page <= 0)
        ns_per_page = HN_SCAVENGE_NS_PER_PHYS_PAGE;
    uint64_t pages = (uint64_t)hn_scavenge_cpu_budget_ns(wall_ns, procs) / (uint64_t)ns_per_page;
    return pages * phys_page_size;
}
