//! Generated logs of any size: [`RealisticLog`], driven by a small
//! deterministic PRNG ([`Rng`]), for benchmarks, property tests and the
//! demo.

use alloc::boxed::Box;
use alloc::collections::BinaryHeap;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::cmp::Reverse;

use super::*;
use crate::event::{Counterparty, Event};
use crate::sealed::Sealed;

/// A small deterministic PRNG (SplitMix64) for generated logs.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Generates a realistic log: `parties` registered parties of every class
/// (some with a second key), then cases with a full disclosure life —
/// report, embargo, notices to registered and unregistered recipients,
/// acknowledgements, identifiers, fix, publication, openings, the
/// occasional exploitation, CRA report, revision and annotation.
///
/// Cases overlap in time as they do in a real log: a new case starts every
/// half hour or so while earlier ones are still under embargo (each lives
/// two to seven weeks), and their steps are logged in time order. A million
/// records span about five years of claimed time, ten million about fifty,
/// so every time stays inside [`PLAUSIBLE_TIMES`](crate::types::PLAUSIBLE_TIMES).
pub struct RealisticLog {
    /// The scenario being built.
    pub scenario: Scenario,
    /// Registered actors.
    pub actors: Vec<Actor>,
    rng: Rng,
    cases: u64,
    /// When the next case starts.
    next_start: Millis,
    /// Steps of the cases under way, earliest first: (time, sequence,
    /// case slot).
    pending: BinaryHeap<Reverse<(Millis, u64, usize)>>,
    /// The cases under way, by slot (`None`: free).
    lives: Vec<Option<CaseLife>>,
    sequence: u64,
    /// Records logged plus records the cases under way will still log.
    planned: u64,
}

impl core::fmt::Debug for RealisticLog {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RealisticLog")
            .field("records", &self.scenario.size())
            .field("cases", &self.cases)
            .field("under_way", &self.pending.len())
            .finish()
    }
}

/// What a case's later steps cite, filled in as its records are logged.
#[derive(Default)]
struct Memo {
    opened: Option<Cite>,
    embargo: Option<Cite>,
    identifier: Option<Cite>,
    notices: Vec<Cite>,
}

/// One step: when it happens, what it signs, and how many records that is.
type Step = (Millis, Box<dyn FnOnce(&mut Scenario, &mut Memo)>, u64);

/// A case under way: its remaining steps, in time order.
struct CaseLife {
    steps: alloc::collections::VecDeque<Step>,
    memo: Memo,
}

impl RealisticLog {
    /// Registers `parties` parties (at least 8).
    pub fn new(seed: u64, parties: usize, keep_leaves: bool) -> RealisticLog {
        let mut scenario = Scenario::new(START);
        if !keep_leaves {
            scenario = scenario.forget_leaves();
        }
        let mut rng = Rng(seed);
        let mut actors = Vec::new();
        for i in 0..parties.max(8) {
            let class = PartyClass::ALL[i % PartyClass::ALL.len()];
            let name = alloc::format!("{}-{seed}-{i}", class.name());
            scenario.advance(1 + rng.below(60_000));
            let mut a = scenario.party(&name, class);
            if rng.chance(20) {
                a = scenario.add_key(&a, &alloc::format!("{name}/key2"));
            }
            actors.push(a);
        }
        let next_start = scenario.now;
        RealisticLog {
            scenario,
            actors,
            rng,
            cases: 0,
            next_start,
            pending: BinaryHeap::new(),
            lives: Vec::new(),
            sequence: 0,
            planned: 0,
        }
    }

    fn pick(&mut self, class: PartyClass) -> Actor {
        let of: Vec<&Actor> = self.actors.iter().filter(|a| a.class == class).collect();
        of[self.rng.below(of.len() as u64) as usize].clone()
    }

    /// Starts one more case (about 15–40 records over its life), logging
    /// the steps of the cases under way that come before it.
    pub fn add_case(&mut self) {
        let start = self.next_start.max(self.scenario.now);
        self.next_start = start + 1 + self.rng.below(HOUR_MS);
        while let Some(Reverse((t, ..))) = self.pending.peek() {
            if *t > start {
                break;
            }
            self.run_next();
        }
        let steps = self.plan_case(start);
        let slot = match self.lives.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.lives.push(None);
                self.lives.len() - 1
            }
        };
        let first = steps.front().map(|(t, ..)| *t).expect("a case has steps");
        self.planned += steps.iter().map(|(_, _, n)| *n).sum::<u64>();
        self.lives[slot] = Some(CaseLife {
            steps,
            memo: Memo::default(),
        });
        self.schedule(first, slot);
    }

    fn schedule(&mut self, t: Millis, slot: usize) {
        self.sequence += 1;
        self.pending.push(Reverse((t, self.sequence, slot)));
    }

    /// Logs the earliest pending step.
    fn run_next(&mut self) {
        let Some(Reverse((t, _, slot))) = self.pending.pop() else {
            return;
        };
        let life = self.lives[slot].as_mut().expect("scheduled");
        let (_, step, records) = life.steps.pop_front().expect("scheduled");
        self.planned -= records;
        self.scenario.now = self.scenario.now.max(t);
        step(&mut self.scenario, &mut life.memo);
        match life.steps.front().map(|(t, ..)| *t) {
            Some(next) => self.schedule(next, slot),
            None => self.lives[slot] = None,
        }
    }

    /// Logs every step of the cases under way.
    pub fn finish(&mut self) {
        while !self.pending.is_empty() {
            self.run_next();
        }
    }

    /// Adds cases until the log, once the cases under way are finished,
    /// will have at least `records` records; then finishes them.
    pub fn grow_to(&mut self, records: u64) {
        while self.scenario.size() + self.planned < records {
            self.add_case();
        }
        self.finish();
    }

    /// The whole life of one case starting at `t`, planned now (every
    /// random choice is drawn here, so the log depends only on the seed).
    fn plan_case(&mut self, mut t: Millis) -> alloc::collections::VecDeque<Step> {
        self.cases += 1;
        let n_case = self.cases;
        let vendor = self.pick(PartyClass::Vendor);
        let finder = self.pick(PartyClass::Finder);
        let mut steps: alloc::collections::VecDeque<Step> = alloc::collections::VecDeque::new();
        let case = self.scenario.case_id();
        let summary = alloc::format!("memory corruption in parser #{n_case}");
        let product = alloc::format!("product-{}", self.rng.below(50));
        let salts: [Salt; 8] = core::array::from_fn(|_| self.scenario.salt());
        let vk = vendor.public();
        {
            let (v, f, summary, product) = (
                vendor.clone(),
                finder.clone(),
                summary.clone(),
                product.clone(),
            );
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    s.submit(
                        &v,
                        Event::CaseOpened {
                            case,
                            summary: Sealed::seal(&summary, field(3, 0), &vk, &salts[0])
                                .expect("small"),
                            product: Sealed::seal(&product, field(3, 1), &vk, &salts[1])
                                .expect("small"),
                        },
                    );
                    m.opened = Some(s.last());
                    s.submit(
                        &v,
                        Event::ReportReceived {
                            case,
                            reporter: f.as_recipient(),
                            report: Sealed::seal(&[1u8; 32], field(4, 1), &vk, &salts[2])
                                .expect("small"),
                        },
                    );
                }),
                2,
            ));
        }
        t += 2 * HOUR_MS;
        let days = 7 + self.rng.below(40);
        let cve = alloc::format!("CVE-2026-{}", 10000 + n_case);
        {
            let (v, cve) = (vendor.clone(), cve.clone());
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    s.submit(&v, Event::ReportAcknowledged { case });
                    let ends_at = s.now + days * DAY_MS;
                    m.embargo = Some(s.submit(&v, Event::EmbargoProposed { case, ends_at }));
                    let _ = cve;
                }),
                2,
            ));
        }
        t += HOUR_MS;
        {
            let (v, f, cve) = (vendor.clone(), finder.clone(), cve.clone());
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    let embargo = m.embargo.expect("proposed");
                    s.submit(&f, Event::EmbargoAccepted { embargo });
                    m.identifier = Some(s.submit(
                        &v,
                        Event::IdentifierAssigned {
                            case,
                            scheme: IdScheme::Cve,
                            value: Sealed::seal(&cve, field(12, 0), &vk, &salts[3]).expect("small"),
                        },
                    ));
                }),
                2,
            ));
        }
        // Notices: registered recipients of several classes, plus one
        // unregistered recipient with a sealed identity.
        let n = 3 + self.rng.below(12);
        let mut acks = Vec::new();
        for _ in 0..n {
            let class = PartyClass::ALL[2 + self.rng.below(5) as usize];
            let to = self.pick(class);
            t += 1 + self.rng.below(DAY_MS);
            let level = [InfoLevel::Existence, InfoLevel::Details, InfoLevel::Exploit]
                [self.rng.below(3) as usize];
            let acked = self.rng.chance(85);
            let v = vendor.clone();
            let to2 = to.clone();
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    let r = s.notify(&v, case, &to2, level, m.embargo);
                    m.notices.push(r);
                }),
                1,
            ));
            acks.push((to, acked));
        }
        {
            let v = vendor.clone();
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    s.submit(
                        &v,
                        Event::Notified {
                            case,
                            recipient: Counterparty::Unregistered {
                                class: PartyClass::Deployer,
                                identity: Sealed::seal(
                                    &"a large customer".to_string(),
                                    field(6, 0),
                                    &vk,
                                    &salts[4],
                                )
                                .expect("small"),
                            },
                            level: InfoLevel::Existence,
                            tlp: Tlp::Amber,
                            embargo: m.embargo,
                            content: Sealed::seal(&[2u8; 32], field(6, 1), &vk, &salts[5])
                                .expect("small"),
                            channel: Channel::Portal,
                        },
                    );
                }),
                1,
            ));
        }
        t += 3 * HOUR_MS;
        for (i, (to, acked)) in acks.into_iter().enumerate() {
            let received = t - self.rng.below(HOUR_MS);
            t += 1 + self.rng.below(HOUR_MS);
            if acked {
                steps.push_back((
                    t,
                    Box::new(move |s, m| {
                        s.ack(&to, m.notices[i], received);
                    }),
                    1,
                ));
            }
        }
        if self.rng.chance(20) {
            let v = vendor.clone();
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    let embargo = m.embargo.expect("proposed");
                    let ends_at = s.now + (days + 7) * DAY_MS;
                    s.submit(&v, Event::EmbargoRevised { embargo, ends_at });
                }),
                1,
            ));
        }
        t += (1 + self.rng.below(days / 2)) * DAY_MS;
        {
            let v = vendor.clone();
            steps.push_back((
                t,
                Box::new(move |s, _| {
                    s.submit(&v, Event::FixReady { case });
                }),
                1,
            ));
        }
        t += (1 + self.rng.below(days / 2)) * DAY_MS;
        {
            let v = vendor.clone();
            steps.push_back((
                t,
                Box::new(move |s, _| {
                    s.submit(&v, Event::FixReleased { case });
                }),
                1,
            ));
        }
        t += HOUR_MS;
        {
            let (v, summary, product, cve) = (vendor.clone(), summary, product, cve);
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    let embargo = m.embargo.expect("proposed");
                    s.submit(
                        &v,
                        Event::EmbargoTerminated {
                            embargo,
                            reason: TerminationReason::PlannedEnd,
                        },
                    );
                    s.submit(
                        &v,
                        Event::PubliclyDisclosed {
                            case,
                            url: alloc::format!("https://vendor.example/advisories/{n_case}.json"),
                            sha256: [3u8; 32],
                        },
                    );
                    let opened = m.opened.expect("opened");
                    for (record, field, salt, value) in [
                        (
                            m.identifier.expect("assigned"),
                            0,
                            salts[3],
                            crate::encoding::encode(&cve),
                        ),
                        (opened, 0, salts[0], crate::encoding::encode(&summary)),
                        (opened, 1, salts[1], crate::encoding::encode(&product)),
                    ] {
                        s.submit(
                            &v,
                            Event::Opening {
                                record,
                                field,
                                salt,
                                value: value.expect("small"),
                            },
                        );
                    }
                }),
                5,
            ));
        }
        if self.rng.chance(10) {
            t += 2 * DAY_MS;
            let v = vendor.clone();
            steps.push_back((
                t,
                Box::new(move |s, _| {
                    s.submit(&v, Event::ExploitationObserved { case });
                }),
                1,
            ));
            t += 10 * HOUR_MS;
            let v = vendor.clone();
            steps.push_back((
                t,
                Box::new(move |s, _| {
                    s.submit(
                        &v,
                        Event::RegulatoryReport {
                            case,
                            stage: RegulatoryStage::EarlyWarning,
                            authority: "ENISA".to_string(),
                        },
                    );
                }),
                1,
            ));
        }
        if self.rng.chance(5) {
            let f = finder;
            steps.push_back((
                t,
                Box::new(move |s, m| {
                    s.submit(
                        &f,
                        Event::Annotation {
                            record: m.opened.expect("opened"),
                            kind: AnnotationKind::Comment,
                            text: "reported on 2026-01-01 by e-mail".to_string(),
                        },
                    );
                }),
                1,
            ));
        }
        steps
    }
}

/// A generated log of about `records` records, then a key added and the
/// first party's old key revoked as compromised from a time long past, so
/// that the revocation flags records spread over the whole log (a paging
/// store or replay must load them from disk), and a statement by the new
/// key.
pub fn with_backdated_revocation(seed: u64, records: u64) -> Scenario {
    let mut log = RealisticLog::new(seed, 12, false);
    log.grow_to(records);
    log.finish();
    let victim = log.actors[0].clone();
    let s = &mut log.scenario;
    s.hours(1);
    let newer = s.add_key(&victim, "replacement key");
    s.submit(
        &newer,
        Event::KeyRevoked {
            key: victim.public(),
            effective_at: START + 3 * crate::types::DAY_MS,
        },
    );
    log.scenario
}
