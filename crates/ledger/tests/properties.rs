//! Properties: random valid logs audit clean (and identically whether
//! pushed one by one, in threaded batches, or in batch-verify mode);
//! decoding arbitrary bytes never panics; encode∘decode is the identity.

use forewarn_ledger::auditor::Auditor;
use forewarn_ledger::testkit::RealisticLog;
use forewarn_ledger::verify::VerifyMode;
use forewarn_ledger::*;
use forewarn_tlog::hash::Hash;
use proptest::prelude::*;

fn arb_key() -> impl Strategy<Value = PublicKey> {
    any::<[u8; 32]>().prop_map(PublicKey)
}

fn arb_sealed_string() -> impl Strategy<Value = Sealed<String>> {
    prop_oneof![
        ".{0,40}".prop_map(Sealed::Clear),
        any::<[u8; 32]>().prop_map(|c| Sealed::Sealed(Commitment(c))),
    ]
}

fn arb_sealed_hash() -> impl Strategy<Value = Sealed<[u8; 32]>> {
    prop_oneof![
        any::<[u8; 32]>().prop_map(Sealed::Clear),
        any::<[u8; 32]>().prop_map(|c| Sealed::Sealed(Commitment(c))),
    ]
}

fn arb_class() -> impl Strategy<Value = PartyClass> {
    (0..7usize).prop_map(|i| PartyClass::ALL[i])
}

fn arb_cite() -> impl Strategy<Value = Cite> {
    (any::<u64>(), any::<[u8; 32]>()).prop_map(|(i, leaf)| Cite::new(i, Hash(leaf)))
}

fn arb_counterparty() -> impl Strategy<Value = Counterparty> {
    prop_oneof![
        arb_cite().prop_map(Counterparty::Party),
        (arb_class(), arb_sealed_string())
            .prop_map(|(class, identity)| Counterparty::Unregistered { class, identity }),
    ]
}

fn arb_case() -> impl Strategy<Value = CaseId> {
    any::<[u8; 16]>().prop_map(CaseId)
}

fn arb_event() -> impl Strategy<Value = Event> {
    let level = prop_oneof![
        Just(InfoLevel::Existence),
        Just(InfoLevel::Details),
        Just(InfoLevel::Exploit)
    ];
    let tlp = prop_oneof![
        Just(Tlp::Clear),
        Just(Tlp::Green),
        Just(Tlp::Amber),
        Just(Tlp::AmberStrict),
        Just(Tlp::Red)
    ];
    let channel = (0..8u8).prop_map(|i| {
        [
            Channel::Email,
            Channel::EncryptedEmail,
            Channel::Portal,
            Channel::Api,
            Channel::MailingList,
            Channel::Phone,
            Channel::InPerson,
            Channel::Other,
        ][i as usize]
    });
    let reason = (0..5u8).prop_map(|i| {
        [
            TerminationReason::PlannedEnd,
            TerminationReason::Leak,
            TerminationReason::ExploitationObserved,
            TerminationReason::PublicElsewhere,
            TerminationReason::Other,
        ][i as usize]
    });
    let scheme = (0..6u8).prop_map(|i| {
        [
            IdScheme::Cve,
            IdScheme::Ghsa,
            IdScheme::Osv,
            IdScheme::Euvd,
            IdScheme::Vendor,
            IdScheme::Other,
        ][i as usize]
    });
    let stage = (0..3u8).prop_map(|i| {
        [
            RegulatoryStage::EarlyWarning,
            RegulatoryStage::Notification,
            RegulatoryStage::FinalReport,
        ][i as usize]
    });
    let akind = (0..3u8).prop_map(|i| {
        [
            AnnotationKind::Correction,
            AnnotationKind::Comment,
            AnnotationKind::Retraction,
        ][i as usize]
    });
    prop_oneof![
        (".{0,20}", arb_class(), arb_key()).prop_map(|(name, class, key)| Event::PartyRegistered {
            name,
            class,
            key
        }),
        (
            arb_cite(),
            arb_key(),
            proptest::array::uniform32(any::<u8>()),
            proptest::array::uniform32(any::<u8>())
        )
            .prop_map(|(party, key, a, b)| {
                let mut possession = [0u8; 64];
                possession[..32].copy_from_slice(&a);
                possession[32..].copy_from_slice(&b);
                Event::KeyAdded {
                    party,
                    key,
                    possession: Signature(possession),
                }
            }),
        (arb_key(), any::<u64>())
            .prop_map(|(key, effective_at)| Event::KeyRevoked { key, effective_at }),
        (arb_case(), arb_sealed_string(), arb_sealed_string()).prop_map(
            |(case, summary, product)| Event::CaseOpened {
                case,
                summary,
                product
            }
        ),
        (arb_case(), arb_counterparty(), arb_sealed_hash()).prop_map(|(case, reporter, report)| {
            Event::ReportReceived {
                case,
                reporter,
                report,
            }
        }),
        arb_case().prop_map(|case| Event::ReportAcknowledged { case }),
        (
            arb_case(),
            arb_counterparty(),
            level,
            tlp,
            proptest::option::of(arb_cite()),
            arb_sealed_hash(),
            channel
        )
            .prop_map(|(case, recipient, level, tlp, embargo, content, channel)| {
                Event::Notified {
                    case,
                    recipient,
                    level,
                    tlp,
                    embargo,
                    content,
                    channel,
                }
            }),
        (arb_cite(), any::<u64>()).prop_map(|(notice, received_at)| Event::Acknowledged {
            notice,
            received_at
        }),
        (arb_case(), any::<u64>())
            .prop_map(|(case, ends_at)| Event::EmbargoProposed { case, ends_at }),
        arb_cite().prop_map(|embargo| Event::EmbargoAccepted { embargo }),
        (arb_cite(), any::<u64>())
            .prop_map(|(embargo, ends_at)| Event::EmbargoRevised { embargo, ends_at }),
        (arb_cite(), reason)
            .prop_map(|(embargo, reason)| Event::EmbargoTerminated { embargo, reason }),
        (arb_case(), scheme, arb_sealed_string()).prop_map(|(case, scheme, value)| {
            Event::IdentifierAssigned {
                case,
                scheme,
                value,
            }
        }),
        arb_case().prop_map(|case| Event::FixReady { case }),
        arb_case().prop_map(|case| Event::FixReleased { case }),
        (arb_case(), ".{0,30}", any::<[u8; 32]>())
            .prop_map(|(case, url, sha256)| Event::PubliclyDisclosed { case, url, sha256 }),
        arb_case().prop_map(|case| Event::ExploitPublic { case }),
        arb_case().prop_map(|case| Event::ExploitationObserved { case }),
        (arb_case(), stage, ".{0,10}").prop_map(|(case, stage, authority)| {
            Event::RegulatoryReport {
                case,
                stage,
                authority,
            }
        }),
        (
            arb_cite(),
            any::<u8>(),
            any::<[u8; 32]>(),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(record, field, salt, value)| Event::Opening {
                record,
                field,
                salt,
                value
            }),
        (arb_cite(), akind, ".{0,40}").prop_map(|(record, kind, text)| Event::Annotation {
            record,
            kind,
            text
        }),
    ]
}

fn arb_statement() -> impl Strategy<Value = Statement> {
    (
        ".{0,20}",
        arb_event(),
        any::<u64>(),
        arb_key(),
        proptest::option::of((any::<u64>(), any::<[u8; 32]>())),
    )
        .prop_map(|(origin, event, claimed_at, signer, seen)| Statement {
            version: 2,
            origin,
            event,
            claimed_at,
            signer,
            seen: seen.map(|(size, root)| statement::SeenCheckpoint {
                size,
                root: Hash(root),
            }),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn statement_encode_decode_is_identity(st in arb_statement()) {
        let bytes = st.to_bytes().unwrap();
        prop_assert_eq!(bytes[0], 2, "version byte first");
        let back = Statement::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &st);
        prop_assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn record_encode_decode_is_identity(
        st in arb_statement(),
        index in any::<u64>(),
        prev in any::<[u8; 32]>(),
        logged_at in any::<u64>(),
        sig in proptest::collection::vec(any::<u8>(), 64),
    ) {
        let r = Record {
            version: 2,
            index,
            prev: Hash(prev),
            logged_at,
            statement: st.to_bytes().unwrap(),
            signature: sig.try_into().unwrap(),
        };
        let bytes = r.to_bytes().unwrap();
        prop_assert_eq!(Record::from_bytes(&bytes).unwrap(), r);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        // Decoders return a typed error or a value that re-encodes to the input.
        if let Ok(r) = Record::from_bytes(&bytes) {
            prop_assert_eq!(r.to_bytes().unwrap(), bytes.clone());
        }
        if let Ok(s) = Statement::from_bytes(&bytes) {
            prop_assert_eq!(s.to_bytes().unwrap(), bytes.clone());
        }
        let mut a = Auditor::new(AuditConfig::default());
        prop_assert!(a.push(&bytes).is_err());
        prop_assert!(Auditor::resume(AuditConfig::default(), &bytes).is_err());
    }

    #[test]
    fn mutated_valid_records_decode_canonically_or_not_at_all(
        seed in 0u64..1000,
        pos in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let mut log = RealisticLog::new(seed, 8, true);
        log.grow_to(20);
        let records = log.scenario.records();
        let mut r = records[records.len() - 1].clone();
        let i = pos.index(r.len());
        r[i] = value;
        if let Ok(rec) = Record::from_bytes(&r) {
            prop_assert_eq!(rec.to_bytes().unwrap(), r.clone());
            if let Ok(st) = Statement::from_bytes(&rec.statement) {
                prop_assert_eq!(st.to_bytes().unwrap(), rec.statement.clone());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn random_valid_logs_audit_clean_the_same_way_every_way(
        seed in any::<u64>(),
        parties in 8usize..30,
        size in 40u64..260,
    ) {
        let mut log = RealisticLog::new(seed, parties, true);
        log.grow_to(size);
        let records: Vec<&[u8]> = log.scenario.records().iter().map(|r| r.as_slice()).collect();
        let mut one = Auditor::new(AuditConfig { verify_mode: VerifyMode::Strict, ..AuditConfig::default() });
        for r in &records {
            one.push(r).unwrap();
        }
        let mut threaded = Auditor::new(AuditConfig { threads: 2, verify_mode: VerifyMode::Strict, ..AuditConfig::default() });
        for chunk in records.chunks(97) {
            threaded.push_batch(chunk).unwrap();
        }
        let mut batched = Auditor::new(AuditConfig { threads: 2, verify_mode: VerifyMode::Batch, ..AuditConfig::default() });
        batched.push_batch(&records).unwrap();
        // Prepared ahead (as `audit` and `check` drive it), then folded.
        let mut ahead = Auditor::new(AuditConfig { threads: 2, verify_mode: VerifyMode::Batch, ..AuditConfig::default() });
        let mut preparer = ahead.preparer();
        for chunk in records.chunks(97) {
            let prepared = preparer.prepare(chunk);
            prop_assert_eq!(prepared.len(), chunk.len());
            ahead.fold_prepared(chunk, prepared).unwrap();
        }
        prop_assert_eq!(one.save(), threaded.save());
        prop_assert_eq!(one.save(), batched.save());
        prop_assert_eq!(one.save(), ahead.save());
        // No protocol finding in a well-behaved generated log.
        let protocol = one.state().findings.iter().filter(|f| f.category() == Category::Protocol).count();
        prop_assert_eq!(protocol, 0);
        prop_assert_eq!(one.state().cases.len() as u64, one.state().kind_counts[3]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// A log with one damaged record fails at the same record with the same
    /// failure whether it is pushed one record at a time, in batches, or
    /// prepared ahead and folded, and a poisoned auditor stays poisoned.
    #[test]
    fn a_damaged_record_fails_the_same_way_prepared_ahead(
        seed in any::<u64>(),
        size in 120u64..300,
        at in any::<prop::sample::Index>(),
        byte in any::<prop::sample::Index>(),
        chunk in 1usize..140,
    ) {
        let mut log = RealisticLog::new(seed, 12, true);
        log.grow_to(size);
        let mut records: Vec<Vec<u8>> = log.scenario.records().to_vec();
        let k = at.index(records.len());
        let i = byte.index(records[k].len());
        records[k][i] ^= 0x01;
        let refs: Vec<&[u8]> = records.iter().map(|r| r.as_slice()).collect();
        let config = || AuditConfig { threads: 2, verify_mode: VerifyMode::Batch, ..AuditConfig::default() };
        let mut one = Auditor::new(config());
        let want = refs.iter().find_map(|r| one.push(r).err());
        let mut ahead = Auditor::new(config());
        let mut preparer = ahead.preparer();
        let mut got = None;
        for c in refs.chunks(chunk) {
            let prepared = preparer.prepare(c);
            if let Err(e) = ahead.fold_prepared(c, prepared) {
                got = Some(e);
                break;
            }
        }
        prop_assert_eq!(&got, &want);
        if let Some(f) = want {
            prop_assert_eq!(ahead.size(), f.index);
            // Poisoned: the next fold says the same, whatever it is given.
            let prepared = preparer.prepare(&refs[..1]);
            prop_assert_eq!(ahead.fold_prepared(&refs[..1], prepared), Err(f));
        } else {
            prop_assert_eq!(one.save(), ahead.save());
        }
    }
}
