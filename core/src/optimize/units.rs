//! Work units: a fleet cut into parts that no choice of plans couples, so each part can be
//! optimized on its own — one after another, or in parallel on separate machines — and the
//! results merged into the fleet's.
//!
//! SIMs are coupled only through the shared pools of the plans they may be on (their current
//! plan and, unless locked, every plan eligible for them): a SIM's pool total and SIM count
//! are all another SIM's cost depends on. The connected components of "may be in the same
//! pool" are independent: the bill is the sum of the components' bills, the best bill the sum
//! of their best bills, and a lower bound of each adds up to a lower bound of the whole. A
//! limit on the number of changes couples every SIM, so with one the fleet is one unit.
//!
//! Components are packed, in the order of their first SIM, into units of at least
//! [`UNIT_SIMS`] SIMs (one component larger than that is a unit of its own), so a fleet below
//! that size is always one unit and small components never make a crowd of tiny units.
//!
//! [`Job`] — the optimizer every front end runs — optimizes the units one after another and
//! merges their results; a caller with machines to spare (the Worker) runs each unit's
//! [`Job::single`] on [`Fleet::part`] in parallel and [`merge`]s the results itself: the same
//! plans, bill and bound to the cent.

use crate::fleet::{Fleet, FleetTerms, PlanId, Pooling};
use crate::money::Money;

use super::checkpoint::{DecodeError, Reader, Writer};
use super::components::Components;
use super::job::UnitJob;
use super::model::{Constraints, Model};
use super::{Optimized, Options, Progress, Step};

/// The least number of SIMs a unit is filled to before the next one starts.
pub const UNIT_SIMS: usize = 65_536;

/// The SIMs (indices into [`Fleet::sims`], ascending) of each work unit of `fleet`, for a run
/// with `options`. Always at least one unit (an empty fleet is one empty unit); every SIM is
/// in exactly one.
pub fn split(fleet: &impl FleetTerms, options: &Options) -> Vec<Vec<u32>> {
    split_at(fleet, options, UNIT_SIMS)
}

pub(crate) fn split_at(
    terms: &impl FleetTerms,
    options: &Options,
    unit_sims: usize,
) -> Vec<Vec<u32>> {
    let (fleet, count) = (terms.frame(), terms.sim_count());
    let everything = || vec![(0..count as u32).collect::<Vec<u32>>()];
    if options.constraints.max_changes.is_some() || count <= unit_sims {
        return everything();
    }
    let pools_of = |plans: &[PlanId]| -> Vec<u32> {
        let mut pools: Vec<u32> = plans
            .iter()
            .filter_map(|&p| match fleet.plan(p).pooling {
                Pooling::Shared(pool) => Some(pool.0),
                Pooling::PerSim => None,
            })
            .collect();
        pools.sort_unstable();
        pools.dedup();
        pools
    };
    // SIMs alike in what decides their options touch the same pools: computed once per profile.
    let mut touched: std::collections::HashMap<_, Vec<u32>> = std::collections::HashMap::new();
    // A SIM whose options touch no pool is a component of its own.
    let mut joined = Components::new(fleet.pools.len());
    for i in 0..count {
        let (sim, ..) = terms.sim(i);
        let locked = fleet.locks(&sim);
        let key = (sim.comm_plan, sim.plan_type, sim.current_plan, locked);
        let pools = touched.entry(key).or_insert_with(|| {
            let mut plans = if locked {
                Vec::new()
            } else {
                fleet.eligible_for(sim.comm_plan, sim.plan_type)
            };
            plans.push(sim.current_plan);
            pools_of(&plans)
        });
        joined.add(pools.iter().copied());
    }
    let component = joined.finish();
    // Components in the order of their first SIM, packed into units.
    let mut unit_of_component: Vec<Option<u32>> = vec![None; component.count];
    let mut units: Vec<Vec<u32>> = Vec::new();
    let mut open: Option<u32> = None;
    let mut sizes: Vec<usize> = Vec::new();
    // Component sizes decide when a unit is full, so count them first.
    let mut component_size = vec![0usize; component.count];
    for &c in &component.of_item {
        component_size[c as usize] += 1;
    }
    let mut assign = |size: usize, units: &mut Vec<Vec<u32>>, sizes: &mut Vec<usize>| -> u32 {
        let unit = match open {
            Some(u) => u,
            None => {
                units.push(Vec::new());
                sizes.push(0);
                (units.len() - 1) as u32
            }
        };
        sizes[unit as usize] += size;
        open = (sizes[unit as usize] < unit_sims).then_some(unit);
        unit
    };
    for (i, &c) in component.of_item.iter().enumerate() {
        let c = c as usize;
        let unit = match unit_of_component[c] {
            Some(u) => u,
            None => {
                let u = assign(component_size[c], &mut units, &mut sizes);
                unit_of_component[c] = Some(u);
                u
            }
        };
        units[unit as usize].push(i as u32);
    }
    units
}

/// An optimization in progress: the fleet's work units ([`split`]) one after another, each a
/// `job::UnitJob` on its part of the fleet (a fleet of one unit: on the fleet itself), their
/// results merged. Sliced, resumable and deterministic like each unit's job: any slicing with
/// [`Job::encode`] / [`Job::decode`] between slices gives the identical result.
#[derive(Debug, Clone)]
pub struct Job {
    options: Options,
    /// The least SIMs of a unit the fleet was cut with ([`UNIT_SIMS`] but in tests).
    unit_sims: usize,
    /// The fleet's SIM count.
    sims: usize,
    /// Each unit's SIMs (indices into the fleet's); empty for a fleet of one unit.
    split: Vec<Vec<u32>>,
    /// The units in order: the finished ones' results, then the one in work, then the
    /// waiting ones (built already: their models are all the job needs of the fleet).
    units: Vec<Unit>,
    /// The unit in work (`units.len()` once all are done).
    at: usize,
}

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
enum Unit {
    Working(UnitJob),
    Done(Optimized),
}

impl Job {
    /// Starts optimizing `fleet`, cut into work units.
    pub fn new(fleet: &impl FleetTerms, options: Options) -> Job {
        Job::cut(fleet, options, UNIT_SIMS)
    }

    /// Starts optimizing `fleet`, cut into units of at least `unit_sims` SIMs.
    pub(crate) fn cut(fleet: &impl FleetTerms, options: Options, unit_sims: usize) -> Job {
        let split = split_at(fleet, &options, unit_sims);
        if split.len() == 1 {
            return Job::single(fleet, options);
        }
        let units = split
            .iter()
            .map(|sims| Unit::Working(UnitJob::new(fleet, Some(sims), options)))
            .collect();
        Job {
            options,
            unit_sims,
            sims: fleet.sim_count(),
            split,
            units,
            at: 0,
        }
    }

    /// Starts optimizing `fleet` as one unit, however large: for a caller that runs the units
    /// of [`split`] itself (each on its [`Fleet::part`]) and [`merge`]s their results.
    pub fn single(fleet: &impl FleetTerms, options: Options) -> Job {
        Job::of_unit(UnitJob::new(fleet, None, options), fleet.sim_count())
    }

    /// The job of one unit of `sims` SIMs.
    fn of_unit(unit: UnitJob, sims: usize) -> Job {
        Job {
            options: unit.options(),
            unit_sims: UNIT_SIMS,
            sims,
            split: Vec::new(),
            units: vec![Unit::Working(unit)],
            at: 0,
        }
    }

    /// [`Job::single`] on a fleet given up to it, dropped as soon as the unit's model is built
    /// and before the job's own state is made: the least memory a large unit's job takes.
    pub fn single_owned(fleet: impl FleetTerms, options: Options) -> Job {
        let sims = fleet.sim_count();
        let model = Model::of(&fleet, None, &options.constraints);
        drop(fleet);
        Job::of_unit(UnitJob::of_model(model, options), sims)
    }

    /// [`Job::decode`] on a fleet given up to it: a checkpoint of one work unit drops it as
    /// soon as the unit's model is built ([`Job::single_owned`]).
    ///
    /// # Errors
    /// As [`Job::decode`].
    pub fn decode_owned(fleet: impl FleetTerms, bytes: &[u8]) -> Result<Job, DecodeError> {
        let sims = fleet.sim_count();
        let mut r = Reader::open(bytes)?;
        let (count, at) = Job::read_units(&mut r, sims)?;
        if count > 1 {
            return Job::decode(&fleet, bytes);
        }
        Job::decode_single(r, sims, (count, at), move |constraints: &Constraints| {
            Model::of(&fleet, None, constraints)
        })
    }

    /// A checkpoint's count of work units and the one in work (before format 9, one).
    fn read_units(r: &mut Reader, sims: usize) -> Result<(usize, usize), DecodeError> {
        if r.version() < 9 {
            return Ok((1, 0));
        }
        let count = r.below(sims as u64 + 2, "too many work units")? as usize;
        Ok((
            count,
            r.below(count as u64 + 1, "a unit is out of range")? as usize,
        ))
    }

    /// The job of a checkpoint of one unit (`units` as [`Job::read_units`] read them), its
    /// model made by `model`.
    fn decode_single(
        mut r: Reader,
        sims: usize,
        (count, at): (usize, usize),
        model: impl FnOnce(&Constraints) -> Model,
    ) -> Result<Job, DecodeError> {
        if count == 0 || at > 0 {
            return Err(DecodeError::Invalid("a job without a unit in work"));
        }
        let unit = UnitJob::decode_with(model, &mut r)?;
        r.finish()?;
        Ok(Job::of_unit(unit, sims))
    }

    /// How many work units the job runs, and how many of them are done.
    pub fn units(&self) -> (usize, usize) {
        (self.units.len(), self.at)
    }

    /// Works until `should_yield` (polled after every quantum, at least one quantum per call)
    /// says stop, or the job is done.
    pub fn run_slice(&mut self, should_yield: &mut dyn FnMut() -> bool) -> Step {
        let count = self.units.len();
        while let Some(Unit::Working(job)) = self.units.get_mut(self.at) {
            match job.run_slice(should_yield) {
                Step::Yielded(_) => return Step::Yielded(self.progress()),
                // A job of one unit is that unit's job.
                Step::Finished(result) if count == 1 => return Step::Finished(result),
                Step::Finished(result) => {
                    self.units[self.at] = Unit::Done(result);
                    self.at += 1;
                    // The next unit's first quantum is work too: the budget may be spent.
                    if self.at < count && should_yield() {
                        return Step::Yielded(self.progress());
                    }
                }
            }
        }
        Step::Finished(self.result())
    }

    /// The options the job runs with (after [`Job::decode`], those of the checkpoint).
    pub fn options(&self) -> Options {
        self.options
    }

    /// Whether the job is done (`run_slice` would answer `Finished` at once).
    pub fn is_finished(&self) -> bool {
        match &self.units[..] {
            [Unit::Working(job)] => job.is_finished(),
            units => self.at == units.len(),
        }
    }

    /// Runs to the end.
    pub fn run(mut self) -> Optimized {
        match self.run_slice(&mut || false) {
            Step::Finished(result) => result,
            Step::Yielded(_) => self.result(),
        }
    }

    /// The best result so far, without finishing (for a time limit): the units not started
    /// keep their current plans (and the result has no bound until every unit has one).
    pub fn result(&self) -> Optimized {
        let results: Vec<Optimized> = self.units.iter().map(Unit::result).collect();
        match &self.split[..] {
            [] => results.into_iter().next().expect("one unit"),
            split => merge(self.sims, split, &results),
        }
    }

    /// Where the job stands: the unit in work's phase; the share done weighted by the units'
    /// SIMs; the bills of all units (a waiting unit's best bill is its current one); the bound
    /// once every unit has one.
    pub fn progress(&self) -> Progress {
        let mut phase = "done";
        let (mut done, mut current, mut best) = (0.0, Money::ZERO, Money::ZERO);
        let mut bound = Some(Money::ZERO);
        for (i, unit) in self.units.iter().enumerate() {
            let sims = match &self.split[..] {
                [] => self.sims,
                split => split[i].len(),
            };
            let p = match unit {
                Unit::Working(job) => job.progress(),
                Unit::Done(r) => Progress {
                    phase: "done",
                    done: 1.0,
                    current_cost: r.current_cost,
                    best_cost: r.cost,
                    lower_bound: r.lower_bound,
                },
            };
            if i == self.at {
                phase = p.phase;
            }
            done += p.done * sims as f64;
            current += p.current_cost;
            best += p.best_cost;
            bound = bound.zip(p.lower_bound).map(|(a, b)| a + b);
        }
        Progress {
            phase,
            done: (done / self.sims.max(1) as f64).clamp(0.0, 1.0),
            current_cost: current,
            best_cost: best,
            lower_bound: bound.map(|b| b.min(best)),
        }
    }

    /// The bound on the objective as computed (tests hold it to brute force): a one-unit
    /// job's.
    #[cfg(test)]
    pub(crate) fn objective_bound(&self) -> Option<i64> {
        match &self.units[..] {
            [Unit::Working(job)] => job.objective_bound(),
            _ => None,
        }
    }

    /// The whole state as checkpoint bytes: since format 9, the units (their count and the
    /// one in work), the finished units' results, then the state of the unit in work.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u64(self.units.len() as u64);
        w.u64(self.at as u64);
        if self.units.len() > 1 {
            w.u64(self.unit_sims as u64);
            self.options.encode(&mut w);
        }
        for unit in &self.units[..self.at] {
            let Unit::Done(result) = unit else {
                unreachable!("the units before the one in work are done")
            };
            result.write(&mut w);
        }
        if let Some(Unit::Working(job)) = self.units.get(self.at) {
            job.encode(&mut w);
        }
        w.finish()
    }

    /// Continues a job from its checkpoint. `fleet` must be the input the job was started with
    /// (for a unit run by [`Job::single`], the unit's part).
    ///
    /// # Errors
    /// [`DecodeError`] for damaged, foreign or newer bytes, or a checkpoint of another input.
    pub fn decode(fleet: &impl FleetTerms, bytes: &[u8]) -> Result<Job, DecodeError> {
        let mut r = Reader::open(bytes)?;
        // Before format 9 a checkpoint is one unit's state.
        let (count, at) = Job::read_units(&mut r, fleet.sim_count())?;
        if count <= 1 {
            let model = |constraints: &Constraints| Model::of(fleet, None, constraints);
            return Job::decode_single(r, fleet.sim_count(), (count, at), model);
        }
        let job = {
            let unit_sims = r.below(u64::from(u32::MAX), "a unit size is out of range")? as usize;
            let options = Options::decode(&mut r)?;
            let split = split_at(fleet, &options, unit_sims);
            if split.len() != count {
                return Err(DecodeError::Invalid(
                    "the checkpoint belongs to another input",
                ));
            }
            let mut units = Vec::with_capacity(count);
            for sims in &split[..at] {
                let result = Optimized::read(&mut r, sims.len(), fleet.frame().plans.len())?;
                units.push(Unit::Done(result));
            }
            for (i, sims) in split.iter().enumerate().skip(at) {
                units.push(Unit::Working(match i == at {
                    true => UnitJob::decode(fleet, Some(sims), &mut r)?,
                    false => UnitJob::new(fleet, Some(sims), options),
                }));
            }
            Job {
                options,
                unit_sims,
                sims: fleet.sim_count(),
                split,
                units,
                at,
            }
        };
        r.finish()?;
        Ok(job)
    }
}

impl Optimized {
    /// A work unit's result as bytes, framed like a checkpoint (magic, version, checksum): how
    /// a unit optimized elsewhere (the Worker's unit objects) hands its result over.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.finish()
    }

    /// The result in [`Optimized::to_bytes`]'s `bytes`, which must be one of `sims` SIMs on
    /// plans of a fleet with `plans` plans.
    ///
    /// # Errors
    /// [`DecodeError`] for damaged or foreign bytes, or a result of another size.
    pub fn from_bytes(bytes: &[u8], sims: usize, plans: usize) -> Result<Optimized, DecodeError> {
        let mut r = Reader::open(bytes)?;
        let result = Optimized::read(&mut r, sims, plans)?;
        r.finish()?;
        Ok(result)
    }

    /// Into a checkpoint's body: each SIM's plan, the bill, the current bill and the bound.
    fn write(&self, w: &mut Writer) {
        w.u64s(self.plans.iter().map(|p| u64::from(p.0)));
        w.i64(self.cost.micros());
        w.i64(self.current_cost.micros());
        w.bool(self.lower_bound.is_some());
        w.i64(self.lower_bound.map_or(0, Money::micros));
    }

    fn read(r: &mut Reader, sims: usize, plans: usize) -> Result<Optimized, DecodeError> {
        let ids = r.u64s(sims as u64)?;
        if ids.len() != sims {
            return Err(DecodeError::Invalid("a unit's result is not its SIMs'"));
        }
        let ids = ids
            .into_iter()
            .map(|p| match p < plans as u64 {
                true => Ok(PlanId(p as u32)),
                false => Err(DecodeError::Invalid("a plan is out of range")),
            })
            .collect::<Result<Vec<PlanId>, DecodeError>>()?;
        let cost = Money::from_micros(r.i64()?);
        let current_cost = Money::from_micros(r.i64()?);
        let has_bound = r.bool()?;
        let bound = r.i64()?;
        Ok(Optimized {
            plans: ids,
            cost,
            current_cost,
            lower_bound: has_bound.then_some(Money::from_micros(bound)),
        })
    }
}

impl Unit {
    fn result(&self) -> Optimized {
        match self {
            Unit::Working(job) => job.result(),
            Unit::Done(result) => result.clone(),
        }
    }
}

impl Fleet {
    /// The fleet of these SIMs only (indices into [`Fleet::sims`]), with every plan, pool and
    /// setting of this one: a work unit to optimize on its own.
    pub fn part(&self, sims: &[u32]) -> Fleet {
        Fleet {
            sims: sims
                .iter()
                .map(|&i| self.sims[i as usize].clone())
                .collect(),
            ..self.clone_frame()
        }
    }
}

/// The fleet's result from its units' results (`units` as [`split`] made them, `results` in
/// the same order): each SIM's plan where its unit put it; costs and bounds added up (a bound
/// only when every unit has one).
///
/// # Panics
/// When `units` and `results` do not match in number or sizes — a caller's bug.
pub fn merge(sims: usize, units: &[Vec<u32>], results: &[Optimized]) -> Optimized {
    assert_eq!(units.len(), results.len(), "one result per unit");
    let mut plans = vec![PlanId(0); sims];
    let (mut cost, mut current_cost) = (Money::ZERO, Money::ZERO);
    let mut lower_bound = Some(Money::ZERO);
    for (unit, result) in units.iter().zip(results) {
        assert_eq!(
            unit.len(),
            result.plans.len(),
            "a result per SIM of its unit"
        );
        for (&i, &plan) in unit.iter().zip(&result.plans) {
            plans[i as usize] = plan;
        }
        cost += result.cost;
        current_cost += result.current_cost;
        lower_bound = lower_bound.zip(result.lower_bound).map(|(a, b)| a + b);
    }
    Optimized {
        plans,
        cost,
        current_cost,
        lower_bound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost;
    use crate::fleet::SlimFleet;
    use crate::money::Money;
    use crate::optimize::tests::{run_sliced_job, synthetic_fleet_of};
    use crate::optimize::{Constraints, Step};

    /// The optimizer reads a slim fleet as it reads the fleet: the same cut into units, the
    /// same result and the same checkpoints, so a checkpoint of one resumes on the other —
    /// with SIMs and plans locked, units, a small fleet's branch and bound, and constraints.
    #[test]
    fn a_slim_fleet_gives_the_fleets_units_results_and_checkpoints() {
        let mut locked = synthetic_fleet_of(2_000, 5, 4, 6);
        for sim in locked.sims.iter_mut().step_by(7) {
            sim.locked = true;
        }
        locked.plans[1].locked = true;
        let constrained = Options {
            constraints: Constraints {
                min_saving: Money::from_micros(200_000),
                max_changes: Some(400),
            },
            ..Options::default()
        };
        for (fleet, options, unit_sims) in [
            (locked, Options::default(), 700),
            (
                synthetic_fleet_of(300, 2, 1, 50),
                Options::default(),
                UNIT_SIMS,
            ),
            (synthetic_fleet_of(1_500, 3, 3, 5), constrained, 700),
        ] {
            let slim = SlimFleet::of(&fleet);
            assert!(
                slim.profiles.len() < fleet.sims.len() / 4,
                "{}",
                slim.profiles.len()
            );
            assert_eq!(
                split_at(&slim, &options, unit_sims),
                split_at(&fleet, &options, unit_sims)
            );
            let straight = Job::cut(&fleet, options, unit_sims).run();
            let mut job = Job::cut(&slim, options, unit_sims);
            let mut slices = 0;
            let result = loop {
                let mut quanta = 0;
                if let Step::Finished(result) = job.run_slice(&mut || {
                    quanta += 1;
                    quanta == 3
                }) {
                    break result;
                }
                slices += 1;
                let bytes = job.encode();
                let on_fleet = Job::decode(&fleet, &bytes).expect("the fleet reads it");
                assert_eq!(on_fleet.encode(), bytes);
                job = Job::decode(&slim, &on_fleet.encode()).expect("the slim fleet reads it");
            };
            assert!(slices > 3, "{slices} slices");
            assert_eq!(result, straight);

            // Given up to the job, a fleet gives the same job and checkpoints.
            let mut job = match split_at(&slim, &options, unit_sims).len() {
                1 => Job::single_owned(slim.clone(), options),
                _ => Job::cut(&slim, options, unit_sims),
            };
            let mut quanta = 0;
            let _ = job.run_slice(&mut || {
                quanta += 1;
                quanta == 5
            });
            let bytes = job.encode();
            let owned = Job::decode_owned(slim, &bytes).expect("the slim fleet reads it");
            assert_eq!(owned.encode(), bytes);
            assert_eq!(owned.run(), straight);
        }
    }

    #[test]
    fn units_are_independent_and_their_results_add_up_to_the_fleets() {
        // 4 communication plans, each with its own pooled and per-SIM plans: 4 components of
        // about 500 SIMs; with units of at least 700 SIMs, 2,000 SIMs make 2 units of 2.
        let fleet = synthetic_fleet_of(2_000, 5, 4, 6);
        let options = Options::default();
        let units = split_at(&fleet, &options, 700);
        assert_eq!(units.len(), 2, "{} units", units.len());
        let mut seen = vec![false; fleet.sims.len()];
        for unit in &units {
            assert!(unit.windows(2).all(|w| w[0] < w[1]), "ascending");
            for &i in unit {
                assert!(
                    !std::mem::replace(&mut seen[i as usize], true),
                    "SIM {i} twice"
                );
            }
        }
        assert!(seen.iter().all(|&s| s), "every SIM in a unit");
        // No pool is open to SIMs of two units.
        let mut unit_of_pool = vec![None; fleet.pools.len()];
        for (u, unit) in units.iter().enumerate() {
            for &i in unit {
                let sim = &fleet.sims[i as usize];
                let mut plans = fleet.eligible_plans(sim);
                plans.push(sim.current_plan);
                for p in plans {
                    if let Pooling::Shared(pool) = fleet.plan(p).pooling {
                        let owner = unit_of_pool[pool.0 as usize].get_or_insert(u);
                        assert_eq!(*owner, u, "pool {} in two units", pool.0);
                    }
                }
            }
        }
        let results: Vec<Optimized> = units
            .iter()
            .map(|unit| Job::new(&fleet.part(unit), options).run())
            .collect();
        let merged = merge(fleet.sims.len(), &units, &results);
        assert_eq!(cost::bill(&fleet, &merged.plans).total(), merged.cost);
        let current: Vec<_> = fleet.sims.iter().map(|s| s.current_plan).collect();
        assert_eq!(cost::bill(&fleet, &current).total(), merged.current_cost);
        let whole = Job::new(&fleet, options).run();
        let bound = merged.lower_bound.expect("a bound");
        assert!(
            bound <= whole.cost,
            "the units' bound holds for the whole fleet"
        );
        assert!(whole.lower_bound.expect("a bound") <= merged.cost);
    }

    #[test]
    fn a_units_result_round_trips_as_bytes_and_refuses_what_does_not_fit() {
        let result = Optimized {
            plans: vec![PlanId(2), PlanId(0), PlanId(7)],
            cost: Money::from_micros(12_345_000),
            current_cost: Money::from_micros(20_000_000),
            lower_bound: Some(Money::from_micros(-5)),
        };
        let bytes = result.to_bytes();
        assert_eq!(Optimized::from_bytes(&bytes, 3, 8), Ok(result.clone()));
        assert!(
            Optimized::from_bytes(&bytes, 2, 8).is_err(),
            "another unit's size"
        );
        assert!(
            Optimized::from_bytes(&bytes, 3, 7).is_err(),
            "a plan out of range"
        );
        let mut damaged = bytes.clone();
        damaged[20] ^= 1;
        assert_eq!(
            Optimized::from_bytes(&damaged, 3, 8),
            Err(DecodeError::Corrupt)
        );
        let unbounded = Optimized {
            lower_bound: None,
            ..result
        };
        assert_eq!(
            Optimized::from_bytes(&unbounded.to_bytes(), 3, 8),
            Ok(unbounded)
        );
    }

    #[test]
    fn small_fleets_and_a_change_limit_are_one_unit() {
        let fleet = synthetic_fleet_of(2_000, 5, 4, 6);
        assert_eq!(split(&fleet, &Options::default()).len(), 1);
        let limited = Options {
            constraints: Constraints {
                max_changes: Some(10),
                ..Constraints::default()
            },
            ..Options::default()
        };
        assert_eq!(split_at(&fleet, &limited, 700).len(), 1);
    }

    #[test]
    fn a_job_of_several_units_is_its_units_run_apart_and_resumes_exactly() {
        let fleet = synthetic_fleet_of(2_000, 5, 4, 6);
        let options = Options::default();
        let units = split_at(&fleet, &options, 700);
        let apart: Vec<Optimized> = units
            .iter()
            .map(|unit| Job::single(&fleet.part(unit), options).run())
            .collect();
        let job = Job::cut(&fleet, options, 700);
        assert_eq!(job.units(), (2, 0));
        let straight = job.clone().run();
        assert_eq!(straight, merge(fleet.sims.len(), &units, &apart));
        assert_eq!(cost::bill(&fleet, &straight.plans).total(), straight.cost);
        assert!(straight.lower_bound.is_some_and(|b| b <= straight.cost));

        // The bound shows once every unit has one; the share done never falls; a result taken
        // midway (a time limit) bills what it says, the waiting unit on its current plans.
        let mut job = Job::cut(&fleet, options, 700);
        let (mut done, mut midway_checked) = (0.0, false);
        while let Step::Yielded(progress) = job.run_slice(&mut || true) {
            assert!(progress.done >= done, "{} after {done}", progress.done);
            done = progress.done;
            let (_, finished) = job.units();
            if finished == 0 {
                assert_eq!(progress.lower_bound, None);
                if progress.phase == "improving plans" && !midway_checked {
                    let midway = job.result();
                    assert_eq!(cost::bill(&fleet, &midway.plans).total(), midway.cost);
                    assert_eq!(midway.lower_bound, None);
                    for &i in &units[1] {
                        let sim = &fleet.sims[i as usize];
                        assert_eq!(midway.plans[i as usize], sim.current_plan);
                    }
                    midway_checked = true;
                }
            }
        }
        assert!(midway_checked);
        assert_eq!(job.units(), (2, 2));
        assert!(job.is_finished());

        for seed in [1, 2] {
            let (result, slices) = run_sliced_job(&fleet, Job::cut(&fleet, options, 700), seed, 5);
            assert!(slices > 20, "{slices} slices");
            assert_eq!(result, straight, "slicing seed {seed}");
        }
        // A checkpoint of several units is refused for another fleet.
        let mut job = Job::cut(&fleet, options, 700);
        job.run_slice(&mut || true);
        let other = synthetic_fleet_of(2_000, 6, 4, 6);
        assert!(Job::decode(&other, &job.encode()).is_err());
    }
}
