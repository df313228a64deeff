//! Generated logs of any size: [`RealisticLog`], driven by a small
//! deterministic PRNG ([`Rng`]), for benchmarks, property tests and the
//! demo.

use alloc::string::ToString;
use alloc::vec::Vec;

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
#[derive(Clone, Debug)]
pub struct RealisticLog {
    /// The scenario being built.
    pub scenario: Scenario,
    /// Registered actors.
    pub actors: Vec<Actor>,
    rng: Rng,
    cases: u64,
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
        RealisticLog {
            scenario,
            actors,
            rng,
            cases: 0,
        }
    }

    fn pick(&mut self, class: PartyClass) -> Actor {
        let of: Vec<&Actor> = self.actors.iter().filter(|a| a.class == class).collect();
        of[self.rng.below(of.len() as u64) as usize].clone()
    }

    /// Adds one case's life (about 15–40 records).
    pub fn add_case(&mut self) {
        self.cases += 1;
        let vendor = self.pick(PartyClass::Vendor);
        let finder = self.pick(PartyClass::Finder);
        let s = &mut self.scenario;
        s.advance(1 + self.rng.below(6 * HOUR_MS));
        let product = alloc::format!("product-{}", self.rng.below(50));
        let (case, sum_salt, prod_salt) = s.open_case(
            &vendor,
            &alloc::format!("memory corruption in parser #{}", self.cases),
            &product,
        );
        let case_opened = s.last();
        let salt = s.salt();
        let vk = vendor.public();
        s.submit(
            &vendor,
            Event::ReportReceived {
                case,
                reporter: finder.as_recipient(),
                report: Sealed::seal(&[1u8; 32], field(4, 1), &vk, &salt).expect("small"),
            },
        );
        s.hours(2);
        s.submit(&vendor, Event::ReportAcknowledged { case });
        let days = 7 + self.rng.below(40);
        let embargo = s.submit(
            &vendor,
            Event::EmbargoProposed {
                case,
                ends_at: s.now + days * DAY_MS,
            },
        );
        s.hours(1);
        s.submit(&finder, Event::EmbargoAccepted { embargo });
        let cve_salt = s.salt();
        let cve = alloc::format!("CVE-2026-{}", 10000 + self.cases);
        let cve_record = s.submit(
            &vendor,
            Event::IdentifierAssigned {
                case,
                scheme: IdScheme::Cve,
                value: Sealed::seal(&cve, field(12, 0), &vk, &cve_salt).expect("small"),
            },
        );
        // Notices: registered recipients of several classes, plus one
        // unregistered recipient with a sealed identity.
        let n = 3 + self.rng.below(12);
        let mut pending_acks = Vec::new();
        for _ in 0..n {
            let class = PartyClass::ALL[2 + self.rng.below(5) as usize];
            let to = self.pick(class);
            let s = &mut self.scenario;
            s.advance(1 + self.rng.below(DAY_MS));
            let level = [InfoLevel::Existence, InfoLevel::Details, InfoLevel::Exploit]
                [self.rng.below(3) as usize];
            let r = s.notify(&vendor, case, &to, level, Some(embargo));
            if self.rng.chance(85) {
                pending_acks.push((to, r));
            }
        }
        let s = &mut self.scenario;
        let salt = s.salt();
        let id_salt = s.salt();
        let unregistered = s.submit(
            &vendor,
            Event::Notified {
                case,
                recipient: Counterparty::Unregistered {
                    class: PartyClass::Deployer,
                    identity: Sealed::seal(
                        &"a large customer".to_string(),
                        field(6, 0),
                        &vk,
                        &id_salt,
                    )
                    .expect("small"),
                },
                level: InfoLevel::Existence,
                tlp: Tlp::Amber,
                embargo: Some(embargo),
                content: Sealed::seal(&[2u8; 32], field(6, 1), &vk, &salt).expect("small"),
                channel: Channel::Portal,
            },
        );
        s.hours(3);
        for (to, r) in pending_acks {
            let received = s.now - self.rng.below(HOUR_MS);
            s.advance(1 + self.rng.below(HOUR_MS));
            s.ack(&to, r, received);
        }
        if self.rng.chance(20) {
            let s = &mut self.scenario;
            s.submit(
                &vendor,
                Event::EmbargoRevised {
                    embargo,
                    ends_at: s.now + (days + 7) * DAY_MS,
                },
            );
        }
        let s = &mut self.scenario;
        s.days(1 + self.rng.below(days / 2));
        s.submit(&vendor, Event::FixReady { case });
        s.days(1 + self.rng.below(days / 2));
        s.submit(&vendor, Event::FixReleased { case });
        s.hours(1);
        s.submit(
            &vendor,
            Event::EmbargoTerminated {
                embargo,
                reason: TerminationReason::PlannedEnd,
            },
        );
        s.submit(
            &vendor,
            Event::PubliclyDisclosed {
                case,
                url: alloc::format!("https://vendor.example/advisories/{}.json", self.cases),
                sha256: [3u8; 32],
            },
        );
        for (record, field, salt, value) in [
            (
                cve_record,
                0,
                cve_salt,
                crate::encoding::encode(&cve).expect("small"),
            ),
            (
                case_opened,
                0,
                sum_salt,
                crate::encoding::encode(&alloc::format!(
                    "memory corruption in parser #{}",
                    self.cases
                ))
                .expect("small"),
            ),
            (
                case_opened,
                1,
                prod_salt,
                crate::encoding::encode(&product).expect("small"),
            ),
        ] {
            s.submit(
                &vendor,
                Event::Opening {
                    record,
                    field,
                    salt,
                    value,
                },
            );
        }
        let _ = unregistered;
        if self.rng.chance(10) {
            let s = &mut self.scenario;
            s.days(2);
            s.submit(&vendor, Event::ExploitationObserved { case });
            s.hours(10);
            s.submit(
                &vendor,
                Event::RegulatoryReport {
                    case,
                    stage: RegulatoryStage::EarlyWarning,
                    authority: "ENISA".to_string(),
                },
            );
        }
        if self.rng.chance(5) {
            let s = &mut self.scenario;
            s.submit(
                &finder,
                Event::Annotation {
                    record: case_opened,
                    kind: AnnotationKind::Comment,
                    text: "reported on 2026-01-01 by e-mail".to_string(),
                },
            );
        }
    }

    /// Adds cases until the log has at least `records` records.
    pub fn grow_to(&mut self, records: u64) {
        while self.scenario.size() < records {
            self.add_case();
        }
    }
}
