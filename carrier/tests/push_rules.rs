//! The push without a network: go/no-go and the change rules (table-driven), and the push job
//! against an in-memory Control Center with a virtual clock, crashed and restored from an
//! older saved state at every step: each change is still applied exactly once.

use std::collections::BTreeMap;

use serde_json::json;
use simopt_carrier::policy::{Policy, RetryPolicy, Rng};
use simopt_carrier::{
    plan_push, Account, Change, ChangeRules, ControlCenter, HttpRequest, HttpResponse, Job, Method,
    Outcome, PushHistory, PushJob, Step, TransportError,
};

const MIN: i64 = 60_000;
const NOW: i64 = 1_795_000_000_000;

fn changes(n: usize) -> Vec<Change> {
    (0..n)
        .map(|i| Change {
            iccid: format!("89{i:017}"),
            from_plan: "A".into(),
            to_plan: "B".into(),
        })
        .collect()
}

#[test]
fn go_no_go_table() {
    // (changes, observed rate, minutes left, go, estimated minutes (rounded up), batches)
    let cases = [
        (600, None, 20, true, 10, 3), // 600 at 60/min = 10 min, + 10 min buffer = 20: fits
        (601, None, 20, false, 11, 3), // one more change does not
        (600, Some(120), 15, true, 5, 3), // history says 120/min
        (250, None, 14, false, 5, 1), // 5 + 10 > 14
        (1, None, 11, true, 1, 1),
        (0, None, 600, false, 0, 0), // nothing to push is not a go
    ];
    for (n, rate, minutes_left, go, estimated_min, batches) in cases {
        let plan = plan_push(
            changes(n),
            &ChangeRules::default(),
            &PushHistory {
                changes_per_minute: rate,
                ..PushHistory::default()
            },
            NOW,
            NOW + minutes_left * MIN,
        );
        let d = &plan.decision;
        assert_eq!(
            d.go, go,
            "{n} changes, {minutes_left} min left: {}",
            d.reason
        );
        assert_eq!(
            (d.estimated_ms + MIN - 1) / MIN,
            estimated_min,
            "{n}: {}",
            d.reason
        );
        assert_eq!(d.batches, batches);
        assert_eq!(plan.batches.len() as u64, batches);
        assert!(plan.batches.iter().all(|b| b.len() <= 250));
    }
    let plan = plan_push(
        changes(601),
        &ChangeRules::default(),
        &PushHistory::default(),
        NOW,
        NOW + 20 * MIN,
    );
    assert_eq!(
        plan.decision.reason,
        "601 changes at 60/min take about 11 min, plus a 10 min buffer, but the period ends in \
         20 min: push them by hand or earlier in the next period"
    );
}

#[test]
fn change_rules_are_data() {
    let mut list = changes(4);
    list.push(list[1].clone()); // duplicate
    list.push(Change {
        iccid: "same".into(),
        from_plan: "A".into(),
        to_plan: "A".into(),
    }); // nothing to do: dropped
    let rules = ChangeRules {
        max_changes_per_sim_per_month: Some(2),
        ..ChangeRules::default()
    };
    let history = PushHistory {
        changes_per_minute: None,
        changes_this_month: BTreeMap::from([
            (list[0].iccid.clone(), 2),
            (list[2].iccid.clone(), 1),
        ]),
    };
    let plan = plan_push(list.clone(), &rules, &history, NOW, NOW + 600 * MIN);
    assert!(plan.decision.go);
    assert_eq!(plan.decision.changes, 3);
    let skipped: Vec<(&str, &Outcome)> = plan
        .skipped
        .iter()
        .map(|o| (o.change.iccid.as_str(), &o.outcome))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                list[0].iccid.as_str(),
                &Outcome::LimitReached {
                    changes_this_month: 2,
                    limit: 2
                }
            ),
            (list[1].iccid.as_str(), &Outcome::Duplicate),
        ]
    );

    // Three changes in a period that ends in 600 min, with an earliest effective date.
    let from = |earliest_ms: i64| {
        let rules = ChangeRules {
            earliest_effective_ms: Some(earliest_ms),
            ..ChangeRules::default()
        };
        plan_push(
            changes(3),
            &rules,
            &PushHistory::default(),
            NOW,
            NOW + 600 * MIN,
        )
    };
    // After the period's end: no-go.
    let plan = from(NOW + 700 * MIN);
    assert!(!plan.decision.go);
    assert!(
        plan.decision
            .reason
            .contains("at or after the period's end"),
        "{}",
        plan.decision.reason
    );
    // Before it: a go, sent with that effective date.
    let plan = from(NOW + 30 * MIN);
    assert!(plan.decision.go);
    assert_eq!(plan.effective_ms, Some(NOW + 30 * MIN));
}

/// An in-memory Control Center for the push: device plans, the changes applied, faults drawn
/// from a seeded generator (500 before a change, 500 after it — a lost answer —, 429, timeout).
struct FakeCarrier {
    plans: BTreeMap<String, String>,
    applied: Vec<(String, String)>,
    rng: Rng,
    fault_percent: u64,
}

impl FakeCarrier {
    fn answer(&mut self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let roll = self.rng.below(100);
        let fault = roll < self.fault_percent;
        let kind = self.rng.below(4);
        if fault && kind == 0 {
            return Ok(HttpResponse::new(500, "{}"));
        }
        if fault && kind == 1 {
            return Ok(HttpResponse::new(429, "{}").with_header("Retry-After", "2"));
        }
        if fault && kind == 2 && request.method == Method::Get {
            return Err(TransportError::timeout("no answer in time"));
        }
        let path = request.path_and_query();
        let iccid = path.rsplit('/').next().unwrap_or_default().to_owned();
        let Some(plan) = self.plans.get(&iccid).cloned() else {
            return Ok(HttpResponse::new(404, "{}"));
        };
        match request.method {
            Method::Get => Ok(HttpResponse::new(
                200,
                json!({"iccid": iccid, "status": "ACTIVATED", "ratePlan": plan,
                       "communicationPlan": "CP"})
                .to_string(),
            )),
            Method::Put => {
                let body: serde_json::Value =
                    serde_json::from_str(request.body.as_deref().unwrap_or("")).expect("JSON");
                let to = body["ratePlan"].as_str().expect("a plan").to_owned();
                self.applied.push((iccid.clone(), to.clone()));
                if body.get("effectiveDate").is_none() {
                    self.plans.insert(iccid.clone(), to);
                }
                if fault && kind >= 2 {
                    // Applied, but the answer is lost.
                    return Err(TransportError::timeout("answer lost"));
                }
                Ok(HttpResponse::new(
                    200,
                    json!({ "iccid": iccid }).to_string(),
                ))
            }
        }
    }
}

fn policy() -> Policy {
    Policy {
        requests_per_second: 50,
        burst: 5,
        changes_per_minute: 600,
        retry: RetryPolicy {
            max_attempts: 12,
            base_delay_ms: 100,
            max_delay_ms: 5_000,
            jitter: true,
        },
        request_timeout_ms: 1_000,
    }
}

/// Runs a push to its end; every `crash_every` answers the job "crashes": it is replaced by
/// the state saved `lag` steps earlier (progress lost, as after a SIGKILL between saves).
fn run(fake: &mut FakeCarrier, mut job: PushJob, crash_every: u64, lag: usize) -> (PushJob, u64) {
    let carrier = ControlCenter::new(
        Account::new("https://controlcenter.example", "u", "k").expect("account"),
    );
    let mut now = NOW;
    let mut saved: Vec<Vec<u8>> = vec![job.encode()];
    let mut answers = 0u64;
    let mut crashes = 0;
    for _ in 0..1_000_000 {
        match job.poll(&carrier, now).expect("no fatal error") {
            Step::Send(out) => {
                let answer = fake.answer(&out.request);
                now += 3;
                job.handle(&carrier, now, out.id, answer)
                    .expect("no fatal error");
                answers += 1;
                saved.push(job.encode());
                if crash_every > 0 && answers % crash_every == 0 {
                    let back = saved.len().saturating_sub(1 + lag);
                    job = PushJob::decode(&saved[back]).expect("a saved state");
                    saved.truncate(back + 1);
                    crashes += 1;
                }
            }
            Step::Wait { until_ms } => now = now.max(until_ms),
            Step::Checkpoint => saved.push(job.encode()),
            Step::Done => return (job, crashes),
        }
    }
    panic!("the push did not end");
}

fn fake(n: usize, fault_percent: u64, seed: u64) -> FakeCarrier {
    FakeCarrier {
        plans: changes(n)
            .into_iter()
            .map(|c| (c.iccid, c.from_plan))
            .collect(),
        applied: Vec::new(),
        rng: Rng::new(seed),
        fault_percent,
    }
}

#[test]
fn crashes_at_any_step_never_apply_a_change_twice() {
    for (seed, crash_every, lag) in [(1, 0, 0), (2, 5, 0), (3, 7, 3), (4, 11, 9), (5, 3, 2)] {
        let mut carrier = fake(150, 15, seed);
        let plan = plan_push(
            changes(150),
            &ChangeRules::default(),
            &PushHistory::default(),
            NOW,
            NOW + 600 * MIN,
        );
        let job = PushJob::new(plan, policy(), seed).expect("a go");
        let (job, crashes) = run(&mut carrier, job, crash_every, lag);
        assert!(
            crash_every == 0 || crashes > 5,
            "seed {seed}: {crashes} crashes"
        );
        let mut seen = BTreeMap::new();
        for (iccid, to) in &carrier.applied {
            assert_eq!(to, "B");
            *seen.entry(iccid.clone()).or_insert(0) += 1;
        }
        assert_eq!(seen.len(), 150, "seed {seed}: every device changed");
        assert!(
            seen.values().all(|n| *n == 1),
            "seed {seed}: a device changed twice"
        );
        assert!(carrier.plans.values().all(|p| p == "B"));
        assert_eq!(job.outcomes().len(), 150);
        assert!(
            job.outcomes().iter().all(|o| o.outcome.is_success()),
            "seed {seed}"
        );
    }
}

#[test]
fn a_future_dated_change_interrupted_is_unconfirmed_not_resent() {
    let mut carrier = fake(3, 0, 1);
    let rules = ChangeRules {
        earliest_effective_ms: Some(NOW + 60 * MIN),
        ..ChangeRules::default()
    };
    let plan = plan_push(
        changes(3),
        &rules,
        &PushHistory::default(),
        NOW,
        NOW + 600 * MIN,
    );
    let cc = ControlCenter::new(
        Account::new("https://controlcenter.example", "u", "k").expect("account"),
    );
    let mut job = PushJob::new(plan, policy(), 1).expect("a go");
    // Check device 0, then the job asks for a checkpoint before sending the dated change.
    let Step::Send(out) = job.poll(&cc, NOW).expect("poll") else {
        panic!("a read first")
    };
    let answer = carrier.answer(&out.request);
    job.handle(&cc, NOW, out.id, answer).expect("handle");
    assert_eq!(job.poll(&cc, NOW).expect("poll"), Step::Checkpoint);
    let armed = job.encode();
    let Step::Send(out) = job.poll(&cc, NOW + 200).expect("poll") else {
        panic!("the change")
    };
    assert!(out
        .request
        .body
        .as_deref()
        .unwrap_or("")
        .contains("effectiveDate"));
    let _lost = carrier.answer(&out.request); // sent; then the process dies
    let job = PushJob::decode(&armed).expect("the armed state");
    let (job, _) = run(&mut carrier, job, 0, 0);
    let names: Vec<&str> = job.outcomes().iter().map(|o| o.outcome.name()).collect();
    assert_eq!(names, ["unconfirmed", "scheduled", "scheduled"]);
    assert_eq!(
        carrier.applied.len(),
        3,
        "device 0's change was sent once, not again"
    );
    assert_eq!(job.report().discrepancies.len(), 1);
}
