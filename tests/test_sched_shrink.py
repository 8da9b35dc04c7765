"""Shrinking: fewer preemptions, then fewer steps, then fewer life-cycle threads; a fixed point."""
from __future__ import annotations

from mmlist import sched


def test_shrinking_reaches_a_fixed_point():
    r = sched.explore("fork-migrate", strategy="portfolio", seed=0, max_executions=400,
                      shrink=False, stop_on_first=True)
    raw = next(f for f in r.failures if f.violation.check == "VM_BUG_ON_MM")
    once, s1 = sched.shrink(raw)
    assert s1.after <= s1.before
    assert once.violation.check == "VM_BUG_ON_MM"
    assert once.violation.function == "lru_gen_migrate_mm"
    assert (once.preemptions, once.steps) <= (raw.preemptions, raw.steps)
    assert s1.fixed_point
    twice, s2 = sched.shrink(once)
    assert twice.schedule == once.schedule and twice.dropped == once.dropped
    assert s2.fixed_point and s2.before == s2.after == s1.after
    # the walker plays no part in this bug: it is not a life-cycle thread, so it stays; the
    # schedule needs one preemption (the migration between cgroup_post_fork and the add)
    assert once.preemptions == 1


def test_shrinking_drops_life_cycle_threads_that_do_not_matter():
    from mmlist.scenarios import Scenario, get
    from mmlist import programs as P
    base = get("fork-migrate")

    def threads(w):
        return base.threads(w) + [P.exiter("app1")]
    sc = Scenario("fork-migrate-exit", "with an extra exit", setup=base.setup, threads=threads,
                  config=base.config)
    r = sched.explore(sc, strategy="dfs", preemption_bound=1, max_executions=300)
    f = next((f for f in r.failures if f.violation.check == "VM_BUG_ON_MM"), None)
    assert f is not None, r.summary()
    assert "exit(app1)" in f.dropped
    res = sched.replay(f.replay_dict, scenario=sc)
    assert res.reproduced
    # and a race between the fork and the exit is shown without the migration
    race = next((f for f in r.failures if f.violation.check == "data_race"), None)
    if race is not None:
        assert "migrate(child)" in race.dropped
