/* gc/limiter.c: the GC CPU limiter's leaky bucket (see limiter.h), following
 * Go's mgclimit.go (Go 1.20+, with idle time subtracted from the total).
 */
#include "gc/limiter.h"

#include "gc/pacer.h"

void hn_limiter_init(hn_limiter *l, int64_t now_ns, int32_t procs)
{
    *l = (hn_limiter){0};
    if (procs < 1)
        procs = 1;
    l->procs = procs;
    l->capacity = (uint64_t)procs * HN_LIMITER_CAPACITY_PER_PROC_NS;
    l->start_ns = now_ns;
    l->last_update_ns = now_ns;
}

static void set_enabled(hn_limiter *l, bool on)
{
    if (on && !l->enabled) {
        l->activations++;
        /* The cycle in progress, or the next one if between cycles: Go's
         * numgc + 1. */
        l->last_enabled_cycle = l->cycle + 1;
    }
    l->enabled = on;
}

void hn_limiter_accumulate(hn_limiter *l, int64_t mutator_ns, int64_t gc_ns)
{
    uint64_t headroom = l->capacity - l->fill;
    bool was_enabled = headroom == 0;
    int64_t change = gc_ns - mutator_ns;

    if (change > 0 && headroom <= (uint64_t)change) {
        /* Full: the excess is GC work the limiter will refuse. */
        l->overflow += (uint64_t)change - headroom;
        l->fill = l->capacity;
        set_enabled(l, true);
        return;
    }
    if (change < 0) {
        /* Unsigned negation: well defined even for INT64_MIN. */
        uint64_t drain = (uint64_t)0 - (uint64_t)change;
        l->fill = l->fill <= drain ? 0 : l->fill - drain; /* never negative */
    } else {
        l->fill += (uint64_t)change;
    }
    if (change != 0 && was_enabled)
        set_enabled(l, false);
}

/* Go's updateLocked. */
static void update_window(hn_limiter *l, int64_t now_ns, int64_t assist_ns, int64_t idle_ns)
{
    if (now_ns < l->last_update_ns)
        return;
    int64_t wall = now_ns - l->last_update_ns;
    int64_t total = wall * l->procs;
    if (l->enabled)
        l->enabled_ns += wall;
    l->last_update_ns = now_ns;

    int64_t gc = assist_ns;
    if (l->gc_enabled)
        gc += (int64_t)((double)total * HN_PACER_BG_UTILIZATION);
    /* Idle time is subtracted after the background share is taken, which
     * depends on the real total. */
    total -= idle_ns;
    hn_limiter_accumulate(l, total - gc, gc);
}

void hn_limiter_update(hn_limiter *l, int64_t now_ns, int64_t assist_ns, int64_t idle_ns)
{
    if (l->transitioning)
        return;
    update_window(l, now_ns, assist_ns, idle_ns);
}

void hn_limiter_start_transition(hn_limiter *l, bool enable_gc, int64_t now_ns,
                                 int64_t assist_ns, int64_t idle_ns)
{
    update_window(l, now_ns, assist_ns, idle_ns);
    l->gc_enabled = enable_gc;
    l->transitioning = true;
}

void hn_limiter_finish_transition(hn_limiter *l, int64_t now_ns)
{
    if (!l->transitioning)
        return;
    if (now_ns >= l->last_update_ns) {
        int64_t wall = now_ns - l->last_update_ns;
        if (l->enabled)
            l->enabled_ns += wall;
        /* The world was stopped: every P's time goes to the GC. */
        hn_limiter_accumulate(l, 0, wall * l->procs);
        l->last_update_ns = now_ns;
    }
    l->transitioning = false;
    if (!l->gc_enabled)
        l->cycle++;
}

void hn_limiter_reset_capacity(hn_limiter *l, int64_t now_ns, int32_t procs)
{
    update_window(l, now_ns, 0, 0);
    if (procs < 1)
        procs = 1;
    l->procs = procs;
    l->capacity = (uint64_t)procs * HN_LIMITER_CAPACITY_PER_PROC_NS;
    if (l->fill > l->capacity) {
        l->fill = l->capacity;
        set_enabled(l, true);
    } else if (l->fill < l->capacity) {
        set_enabled(l, false);
    }
}

double hn_limiter_enabled_fraction(const hn_limiter *l, int64_t now_ns)
{
    int64_t span = now_ns - l->start_ns;
    if (span <= 0)
        return 0;
    int64_t on = l->enabled_ns;
    if (l->enabled && now_ns > l->last_update_ns)
        on += now_ns - l->last_update_ns;
    double f = (double)on / (double)span;
    return f > 1 ? 1 : f;
}
