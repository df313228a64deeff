//! Times on the command line: RFC 3339 in UTC (`2026-03-01T09:30:00Z`, or
//! just a date `2026-03-01`), or a duration after a base time (`30d`,
//! `12h`, `90m`).

/// Milliseconds since the Unix epoch.
pub type Millis = u64;

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Civil date of a day count from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]Z`.
pub fn parse_time(s: &str) -> Result<Millis, String> {
    let bad = || format!("{s:?} is not a UTC time; write it as 2026-03-01T09:30:00Z or 2026-03-01");
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').ok_or_else(bad)?)),
        None => (s, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() != 2 || parts[2].len() != 2 {
        return Err(bad());
    }
    let y: i64 = parts[0].parse().map_err(|_| bad())?;
    let m: u32 = parts[1].parse().map_err(|_| bad())?;
    let d: u32 = parts[2].parse().map_err(|_| bad())?;
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > 31 {
        return Err(bad());
    }
    if civil_from_days(days_from_civil(y, m, d)) != (y, m, d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let f: Vec<&str> = t.split(':').collect();
        if !(2..=3).contains(&f.len()) || f.iter().any(|x| x.len() != 2) {
            return Err(bad());
        }
        let h: i64 = f[0].parse().map_err(|_| bad())?;
        let mi: i64 = f[1].parse().map_err(|_| bad())?;
        let se: i64 = f.get(2).map_or(Ok(0), |x| x.parse()).map_err(|_| bad())?;
        if h > 23 || mi > 59 || se > 59 {
            return Err(bad());
        }
        secs += h * 3600 + mi * 60 + se;
    }
    Ok(secs as u64 * 1000)
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

/// Formats as `2026-03-01 09:30Z` (minutes are enough for people).
pub fn format_time(ms: Millis) -> String {
    let secs = (ms / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Formats a signed duration in days with one decimal, e.g. `+12.5d`.
pub fn format_days(ms: i64) -> String {
    format!("{:+.1}d", ms as f64 / 86_400_000.0)
}

/// Now, from the system clock.
pub fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
        assert_eq!(format_time(1_767_225_600_000), "2026-01-01 00:00Z");
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-01-01T25:00Z",
            "2026-01-01T10:00",
            "yesterday",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_time_or_after("2d", 1000).unwrap(),
            1000 + 2 * 86_400_000
        );
        assert_eq!(parse_time_or_after("90m", 0).unwrap(), 5_400_000);
        for days in [0i64, 1, 59, 365, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
