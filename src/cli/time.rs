//! Times on the command line, through jiff: RFC 3339 in UTC
//! (`2026-03-01T09:30:00Z`, `2026-03-01T09:30Z`, or just a date
//! `2026-03-01`), or a duration after a base time (`30d`, `12h`, `90m`).
//! Times are milliseconds since the Unix epoch, as in the ledger's records.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, fmt::strtime};

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// Whether `s` has the shape of one of the accepted forms: `YYYY-MM-DD`,
/// optionally followed by `THH:MMZ` or `THH:MM:SSZ` (digits where digits
/// go; no offsets other than `Z`, no fractions, no leap second).
fn accepted_shape(s: &str) -> bool {
    let b = s.as_bytes();
    let digits_at = |range: &[usize]| range.iter().all(|&i| b[i].is_ascii_digit());
    let date =
        b.len() >= 10 && digits_at(&[0, 1, 2, 3, 5, 6, 8, 9]) && b[4] == b'-' && b[7] == b'-';
    if !date {
        return false;
    }
    match b.len() {
        10 => true,
        17 => b[10] == b'T' && digits_at(&[11, 12, 14, 15]) && b[13] == b':' && b[16] == b'Z',
        20 => {
            b[10] == b'T'
                && digits_at(&[11, 12, 14, 15, 17, 18])
                && b[13] == b':'
                && b[16] == b':'
                && b[19] == b'Z'
                && &s[17..19] <= "59"
        }
        _ => false,
    }
}

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM[:SS]Z`, years
/// 1970 to 9999.
pub fn parse_time(s: &str) -> Result<Millis, String> {
    let bad = || format!("{s:?} is not a UTC time; write it as 2026-03-01T09:30:00Z or 2026-03-01");
    if !accepted_shape(s) {
        return Err(bad());
    }
    // The shape is checked; jiff validates the calendar (no 30 February,
    // hours to 23) and does the arithmetic.
    let civil: DateTime = s.trim_end_matches('Z').parse().map_err(|_| bad())?;
    if civil.year() < 1970 {
        return Err(bad());
    }
    let ms = civil
        .to_zoned(TimeZone::UTC)
        .map_err(|_| bad())?
        .timestamp()
        .as_millisecond();
    u64::try_from(ms).map_err(|_| bad())
}

/// Parses a time, or a duration (`30d`, `12h`, `90m`) after `base`.
pub fn parse_time_or_after(s: &str, base: Millis) -> Result<Millis, String> {
    let unit = |suffix: char, ms: u64| -> Option<Result<Millis, String>> {
        let n = s.strip_suffix(suffix)?;
        Some(
            n.parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(ms))
                .and_then(|d| base.checked_add(d))
                .ok_or_else(|| format!("{s:?} is not a duration such as 30d, 12h or 90m")),
        )
    };
    unit('d', 86_400_000)
        .or_else(|| unit('h', 3_600_000))
        .or_else(|| unit('m', 60_000))
        .unwrap_or_else(|| parse_time(s))
}

/// Formats as `2026-03-01 09:30Z` (minutes are enough for people). A time
/// past what jiff represents (after the year 9999) prints as milliseconds.
pub fn format_time(ms: Millis) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .map_or_else(
            || format!("{ms} ms after 1970"),
            |t| strtime::format("%Y-%m-%d %H:%MZ", t).expect("a timestamp formats"),
        )
}

/// Formats a signed duration in days with one decimal, e.g. `+12.5d`.
pub fn format_days(ms: i64) -> String {
    format!("{:+.1}d", ms as f64 / 86_400_000.0)
}

/// Now, from the system clock.
pub fn now() -> Millis {
    u64::try_from(Timestamp::now().as_millisecond()).unwrap_or(0)
}

/// Now in whole seconds (cosignature timestamps).
pub fn now_seconds() -> u64 {
    u64::try_from(Timestamp::now().as_second()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_values() {
        assert_eq!(parse_time("1970-01-01").unwrap(), 0);
        assert_eq!(
            parse_time("2026-01-01T00:00:00Z").unwrap(),
            1_767_225_600_000
        );
        assert_eq!(
            parse_time("2026-03-01T09:30Z").unwrap(),
            parse_time("2026-03-01T09:30:00Z").unwrap()
        );
        assert_eq!(
            parse_time("2024-02-29T23:59:59Z").unwrap(),
            1_709_251_199_000
        );
        assert_eq!(format_time(1_767_225_600_000), "2026-01-01 00:00Z");
        assert_eq!(format_time(1_709_251_199_000), "2024-02-29 23:59Z");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-1-01",
            "1969-12-31",
            "2026-01-01T25:00Z",
            "2026-01-01T10:00",
            "2026-01-01T10:00:60Z",
            "2026-01-01T10:00:00.5Z",
            "2026-01-01T10:00:00+01:00",
            "2026-01-01 10:00Z",
            "yesterday",
            "",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_time_or_after("2d", 1000).unwrap(),
            1000 + 2 * 86_400_000
        );
        assert_eq!(parse_time_or_after("90m", 0).unwrap(), 5_400_000);
        assert!(parse_time_or_after("99999999999999999d", 0).is_err());
        assert_eq!(format_days(-36 * 3_600_000), "-1.5d");
    }
}
