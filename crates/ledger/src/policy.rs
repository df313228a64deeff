//! Watchdog policies: the thresholds behind policy findings
//! (docs/AUDITING.md, "Policies").
//!
//! [`AuditPolicy`] is what a watchdog holds the disclosure story to; it is
//! unrelated to forewarn-tlog's witness policy (`forewarn_tlog::policy`,
//! C2SP tlog-policy), which says which cosignatures a checkpoint needs.
//!
//! A policy is plain data: a struct here, a TOML file in the CLI. Every
//! threshold is optional; `None`/`false` switches the rule off. Presets
//! follow the published rules of well-known disclosure programmes.

use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};

/// Thresholds for policy findings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditPolicy {
    /// Name shown in reports.
    pub name: String,
    /// "Logged late": more than this many hours between a statement's
    /// claimed time and the log's time.
    pub max_log_delay_hours: Option<u32>,
    /// Longest embargo, from proposal to (revised) end, in days.
    pub max_embargo_days: Option<u32>,
    /// Most extensions (revisions that move the end later) per embargo.
    pub max_extensions: Option<u32>,
    /// Flag government agencies and programmes told before the fix was ready.
    pub privileged_before_fix: bool,
    /// Flag government agencies and programmes told before any deployer.
    pub privileged_before_deployers: bool,
    /// Notices to registered parties must be acknowledged within this many days.
    pub ack_within_days: Option<u32>,
    /// Sealed fields of a case must be opened within this many days of
    /// publication.
    pub open_within_days: Option<u32>,
    /// EU CRA Art. 14 clocks: early warning within 24 h and notification
    /// within 72 h of observed exploitation; final report within 14 days of
    /// the fix.
    pub cra: bool,
    /// Report violated Vultron desiderata (V≺P, F≺P, F≺A, D≺A, P≺X …).
    pub desiderata: bool,
}

impl Default for AuditPolicy {
    /// The baseline: only the rules every watchdog wants.
    fn default() -> AuditPolicy {
        AuditPolicy {
            name: "baseline".to_string(),
            max_log_delay_hours: Some(72),
            max_embargo_days: None,
            max_extensions: None,
            privileged_before_fix: false,
            privileged_before_deployers: false,
            ack_within_days: Some(14),
            open_within_days: Some(90),
            cra: false,
            desiderata: false,
        }
    }
}

/// Names accepted by [`AuditPolicy::preset`].
pub const PRESETS: [&str; 5] = [
    "baseline",
    "linux-distros",
    "cert-cc",
    "project-zero",
    "eu-cra",
];

impl AuditPolicy {
    /// A named preset:
    /// - `baseline`: logged-late (72 h), acknowledgements (14 days), openings (90 days);
    /// - `linux-distros`: the distros list's 14-day maximum embargo, no extensions;
    /// - `cert-cc`: CERT/CC's 45-day publication target, one extension;
    /// - `project-zero`: 90 days plus a 14-day grace (one extension);
    /// - `eu-cra`: the CRA Art. 14 reporting clocks.
    pub fn preset(name: &str) -> Option<AuditPolicy> {
        let base = AuditPolicy::default();
        let p = match name {
            "baseline" => base,
            "linux-distros" => AuditPolicy {
                name: name.to_string(),
                max_log_delay_hours: Some(24),
                max_embargo_days: Some(14),
                max_extensions: Some(0),
                privileged_before_fix: true,
                privileged_before_deployers: true,
                ack_within_days: Some(2),
                open_within_days: Some(30),
                desiderata: true,
                ..base
            },
            "cert-cc" => AuditPolicy {
                name: name.to_string(),
                max_embargo_days: Some(45),
                max_extensions: Some(1),
                privileged_before_fix: true,
                privileged_before_deployers: true,
                ack_within_days: Some(7),
                desiderata: true,
                ..base
            },
            "project-zero" => AuditPolicy {
                name: name.to_string(),
                max_embargo_days: Some(90 + 14),
                max_extensions: Some(1),
                desiderata: true,
                ..base
            },
            "eu-cra" => AuditPolicy {
                name: name.to_string(),
                max_log_delay_hours: Some(24),
                cra: true,
                desiderata: true,
                ..base
            },
            _ => return None,
        };
        Some(p)
    }
}
